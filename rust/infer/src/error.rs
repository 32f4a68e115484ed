//! [`InferError`]: why a model cannot be loaded or run, or why the bridge failed.

use std::path::PathBuf;

/// Why inference failed.
#[derive(Debug, thiserror::Error)]
pub enum InferError {
    /// The ONNX Runtime shared library could not be found or loaded.
    #[error("ONNX Runtime: {0}")]
    Runtime(String),
    /// A file could not be read.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The model card is malformed, or does not describe the model file beside it.
    #[error("model card {path}: {message}")]
    Card {
        /// The card file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The model was trained on other features than the engine computes: refused at load.
    #[error("model card {path}: the model was trained on {what} {card}, but the strategy computes {engine}")]
    FeatureMismatch {
        /// The card file.
        path: PathBuf,
        /// Which part differs (`feature names`, `clock`, `feature code version`).
        what: &'static str,
        /// What the card says.
        card: String,
        /// What the engine computes.
        engine: String,
    },
    /// The ONNX graph does not have the inputs or outputs the card describes.
    #[error("model {path}: {message}")]
    Graph {
        /// The model file.
        path: PathBuf,
        /// What does not match.
        message: String,
    },
    /// A prediction failed inside ONNX Runtime.
    #[error("prediction failed: {0}")]
    Run(String),
    /// The bridge to the model server failed (bad endpoint, socket error).
    #[error("model bridge: {0}")]
    Bridge(String),
}
