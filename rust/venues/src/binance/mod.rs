//! PLACEHOLDER: being written.

use crate::decoded::Scratch;
use crate::source::{Frame, FrameHint};

/// Decodes one frame.
///
/// # Errors
/// Not yet implemented.
pub fn decode_frame<'s>(frame: &'s [u8], hint: &FrameHint, scratch: &'s mut Scratch) -> Result<Frame<'s>, String> {
    let _ = (frame, hint, scratch);
    Err("not implemented yet".into())
}
