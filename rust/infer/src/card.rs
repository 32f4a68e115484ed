//! [`ModelCard`]: the JSON file written beside every exported model (`NAME.onnx` + `NAME.card.json`).
//!
//! The training side (`ferrotrade ml train`) writes the whole card: feature names and order, the feature
//! code version, the clock, the training data's range and hash, the label definition, cross-validated and
//! out-of-sample metrics, library versions and opsets, and the parity check it passed. The engine reads the
//! part it needs to refuse a model it would feed wrongly:
//!
//! | key | checked against |
//! |---|---|
//! | `model_sha256` | the `.onnx` file (a card describes one file) |
//! | `features.names` | the strategy's feature list, name by name and in order |
//! | `features.clock` | the strategy's sampling clock |
//! | `features.code_version` | [`ferrotrade_features`'s `FEATURE_CODE_VERSION`] of this build |
//! | `task`, `classes`, `input`, `outputs` | the ONNX graph's inputs and outputs |
//!
//! Unknown keys are kept for humans and ignored here, so cards can grow without breaking engines.
//!
//! [`ferrotrade_features`'s `FEATURE_CODE_VERSION`]: https://docs.rs/ferrotrade-features

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::InferError;

/// Card format version this build reads.
pub const CARD_VERSION: u32 = 1;

/// What the model predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Class probabilities (`outputs.probabilities`), one column per entry of `classes`.
    Classification,
    /// One value (`outputs.value`).
    Regression,
}

/// The features the model was trained on.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CardFeatures {
    /// Feature names, in input order.
    pub names: Vec<String>,
    /// The sampling clock as configured (`"bars"`, `"book"` or `{"interval_ms": N}`).
    pub clock: Value,
    /// The feature code version the training data was computed with.
    pub code_version: String,
}

/// The ONNX graph's input.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CardInput {
    /// Input name (one float32 tensor `[rows, features]`).
    pub name: String,
}

/// The ONNX graph's outputs the engine reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CardOutputs {
    /// Classification: the `[rows, classes]` float32 probabilities.
    #[serde(default)]
    pub probabilities: Option<String>,
    /// Regression: the `[rows, 1]` float32 prediction.
    #[serde(default)]
    pub value: Option<String>,
}

/// The part of a model card the engine checks; see the module docs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ModelCard {
    /// Card format version ([`CARD_VERSION`]).
    pub card_version: u32,
    /// The model's name.
    pub name: String,
    /// The `.onnx` file, relative to the card.
    pub model_file: String,
    /// SHA-256 of the `.onnx` file, hex.
    pub model_sha256: String,
    /// What the model predicts.
    pub task: Task,
    /// Class label values, in probability-column order (classification).
    #[serde(default)]
    pub classes: Vec<f64>,
    /// The graph input.
    pub input: CardInput,
    /// The graph outputs.
    pub outputs: CardOutputs,
    /// The features.
    pub features: CardFeatures,
}

/// The card of a model file: `NAME.onnx` -> `NAME.card.json`.
#[must_use]
pub fn card_path(model: &Path) -> PathBuf {
    let stem = model.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
    model.with_file_name(format!("{stem}.card.json"))
}

impl ModelCard {
    /// Reads and checks the card of `model` (see [`card_path`]): its version, and that it describes the
    /// model file (name and SHA-256).
    ///
    /// # Errors
    /// [`InferError::Io`] for a missing file, [`InferError::Card`] for a malformed card, another version, or
    /// a card that describes another file.
    pub fn for_model(model: &Path) -> Result<ModelCard, InferError> {
        let path = card_path(model);
        let card_error = |message: String| InferError::Card { path: path.clone(), message };
        let text = std::fs::read_to_string(&path).map_err(|error| InferError::Io {
            path: path.clone(),
            message: format!("cannot read the model card ({error}); every model needs its card beside it"),
        })?;
        let card: ModelCard = serde_json::from_str(&text).map_err(|error| card_error(error.to_string()))?;
        if card.card_version != CARD_VERSION {
            return Err(card_error(format!("card version {} (this build reads {CARD_VERSION})", card.card_version)));
        }
        let file_name = model.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        if card.model_file != file_name {
            return Err(card_error(format!("describes {:?}, not {file_name:?}", card.model_file)));
        }
        let bytes = std::fs::read(model)
            .map_err(|error| InferError::Io { path: model.to_path_buf(), message: error.to_string() })?;
        let digest = hex::encode(Sha256::digest(&bytes));
        if !digest.eq_ignore_ascii_case(&card.model_sha256) {
            return Err(card_error(format!(
                "model_sha256 {} does not match {file_name} ({digest}): the model changed after its card was written",
                card.model_sha256
            )));
        }
        match card.task {
            Task::Classification if card.classes.is_empty() || card.outputs.probabilities.is_none() => {
                Err(card_error("a classifier needs `classes` and `outputs.probabilities`".into()))
            }
            Task::Regression if card.outputs.value.is_none() => {
                Err(card_error("a regressor needs `outputs.value`".into()))
            }
            _ => Ok(card),
        }
    }

    /// Refuses the model unless it was trained on exactly `names` (in order), sampled on `clock` (the
    /// configuration's JSON form), with feature code `code_version`.
    ///
    /// # Errors
    /// [`InferError::FeatureMismatch`] naming the first difference.
    pub fn check_features(
        &self,
        model: &Path,
        names: &[String],
        clock: &Value,
        code_version: &str,
    ) -> Result<(), InferError> {
        let mismatch = |what, card: String, engine: String| InferError::FeatureMismatch {
            path: card_path(model),
            what,
            card,
            engine,
        };
        if self.features.names != names {
            let first = self.features.names.iter().zip(names).position(|(a, b)| a != b).map_or_else(
                || format!(" ({} features vs {})", self.features.names.len(), names.len()),
                |index| format!(" (first difference at position {index})"),
            );
            return Err(mismatch("feature names", format!("{:?}", self.features.names), format!("{names:?}{first}")));
        }
        if &self.features.clock != clock {
            return Err(mismatch("clock", self.features.clock.to_string(), clock.to_string()));
        }
        if self.features.code_version != code_version {
            return Err(mismatch(
                "feature code version",
                self.features.code_version.clone(),
                format!("{code_version} (retrain the model with this build's features)"),
            ));
        }
        Ok(())
    }
}
