//! pybind
