"""ferrotrade's data layer: a Parquet catalog of normalized market events, and capture verification.

Recorded captures (hftbacktest collector files, cryptofeed captures, Bybit history archives, Binance and
tardis CSVs) are read by the native core and imported into a catalog partitioned by kind, venue, symbol
and date; research code reads it back with lazy polars scans.

==========================  ===========================================================================
what                        where
==========================  ===========================================================================
import captures             :func:`import_captures` (:mod:`ferrotrade.data.catalog`)
read a catalog              :func:`scan`, :func:`info`, :func:`instruments` (:mod:`ferrotrade.data.query`)
check captures              :func:`verify` (:mod:`ferrotrade.data.verify`)
intraday volume profile     :func:`volume_profile` (:mod:`ferrotrade.data.profile`)
column schemas, constants   :mod:`ferrotrade.data.schema`
on-disk layout              :mod:`ferrotrade.data.layout`
precision merge / rescale   :mod:`ferrotrade.data.instruments`
==========================  ===========================================================================

Examples
--------
>>> from ferrotrade import data
>>> data.KINDS[:2]
('book', 'trades')
"""

from ferrotrade.data.catalog import ImportSummary, PartitionSummary, SessionSummary, import_captures
from ferrotrade.data.profile import volume_profile
from ferrotrade.data.query import info, instruments, scan
from ferrotrade.data.schema import KINDS, SCHEMAS
from ferrotrade.data.verify import VerifyReport, verify

__all__ = [
    "KINDS",
    "SCHEMAS",
    "ImportSummary",
    "PartitionSummary",
    "SessionSummary",
    "VerifyReport",
    "import_captures",
    "info",
    "instruments",
    "scan",
    "verify",
    "volume_profile",
]
