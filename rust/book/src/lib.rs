//! L2 order book (work in progress).
