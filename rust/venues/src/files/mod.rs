//! Historical file formats that are tables rather than wire frames: data.binance.vision klines,
//! Binance `T_DEPTH` book CSVs and tardis.dev CSVs.

pub mod kline;
pub mod tardis;
pub mod tdepth;
