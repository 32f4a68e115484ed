//! Finding and loading the ONNX Runtime shared library, once per process.
//!
//! `ort` runs in load-dynamic mode: nothing of ONNX Runtime is linked or downloaded at build time. The
//! library is the one the `onnxruntime` Python wheel ships (`onnxruntime/capi/libonnxruntime.so.*`), so the
//! engine runs exactly the runtime the training side used for its parity check. [`locate`] finds it:
//!
//! 1. the environment variable [`RUNTIME_ENV`] (`FERROTRADE_ONNXRUNTIME`), a path to the library;
//! 2. otherwise the installed Python package, asking the interpreter named by `FERROTRADE_PYTHON` (default
//!    `python3`) where `onnxruntime` lives. The Python extension does not need this step: it imports the
//!    package in process and passes the path to [`environment`].
//!
//! The library is loaded by the first [`environment`] call and stays loaded; a later call with another path
//! gets the first environment (a process has one ONNX Runtime).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::Environment;

use crate::error::InferError;

/// Environment variable naming the ONNX Runtime library to load (overrides the Python package).
pub const RUNTIME_ENV: &str = "FERROTRADE_ONNXRUNTIME";

/// The Python code that prints the library path of the installed `onnxruntime` package.
pub const LOCATE_PY: &str = "import glob, os, onnxruntime; d = os.path.join(os.path.dirname(onnxruntime.__file__), 'capi'); \
found = sorted(glob.glob(os.path.join(d, 'libonnxruntime.so*')) + glob.glob(os.path.join(d, 'libonnxruntime*.dylib')) + glob.glob(os.path.join(d, 'onnxruntime.dll'))); \
print(found[0] if found else '')";

static ENVIRONMENT: OnceLock<Result<Environment, String>> = OnceLock::new();

/// The library to load: [`RUNTIME_ENV`], or the installed `onnxruntime` Python package.
///
/// # Errors
/// [`InferError::Runtime`] when neither names an existing file (the message says how to fix it).
pub fn locate() -> Result<PathBuf, InferError> {
    if let Some(path) = std::env::var_os(RUNTIME_ENV).filter(|value| !value.is_empty()) {
        let path = PathBuf::from(path);
        if !path.is_file() {
            return Err(InferError::Runtime(format!("{RUNTIME_ENV}={} is not a file", path.display())));
        }
        return Ok(path);
    }
    let python = std::env::var("FERROTRADE_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let output = std::process::Command::new(&python).args(["-c", LOCATE_PY]).output().map_err(|error| {
        InferError::Runtime(format!("cannot run {python} to find the onnxruntime package ({error}); set {RUNTIME_ENV}"))
    })?;
    let found = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !output.status.success() || found.is_empty() {
        return Err(InferError::Runtime(format!(
            "the Python package onnxruntime is not installed for {python} (pip install onnxruntime), and {RUNTIME_ENV} is not set"
        )));
    }
    Ok(PathBuf::from(found))
}

/// The process's ONNX Runtime environment, loading the library at `path` on the first call.
///
/// # Errors
/// [`InferError::Runtime`] when the library cannot be loaded (missing, wrong architecture, too old for the
/// API this build uses) — the same error on every later call.
pub fn environment(path: &Path) -> Result<&'static Environment, InferError> {
    ENVIRONMENT
        .get_or_init(|| {
            let builder = ort::init_from(path).map_err(|error| format!("cannot load {}: {error}", path.display()))?;
            builder.with_name("ferrotrade").with_telemetry(false).build().map_err(|error| error.to_string())
        })
        .as_ref()
        .map_err(|message| InferError::Runtime(message.clone()))
}
