//! Generates `rust/bus/src/proto/ferrotrade.v1.rs` from a `FileDescriptorSet` of `proto/`.
//!
//! `make proto` compiles the `.proto` files once, with the protoc that `grpcio-tools` bundles (the same
//! compiler writes the Python modules), into a descriptor set; this program turns that set into Rust with
//! prost-build, so neither side needs a system `protoc` and both are generated from one parse.
//!
//! ```sh
//! ferrotrade-protogen DESCRIPTOR_SET OUT_DIR
//! ```

use std::process::ExitCode;

use prost::Message;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [descriptors, out_dir] = args.as_slice() else {
        eprintln!("usage: ferrotrade-protogen DESCRIPTOR_SET OUT_DIR");
        return ExitCode::from(2);
    };
    match generate(descriptors, out_dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ferrotrade-protogen: {error}");
            ExitCode::FAILURE
        }
    }
}

fn generate(descriptors: &str, out_dir: &str) -> Result<(), Box<dyn std::error::Error>> {
    let bytes = std::fs::read(descriptors).map_err(|error| format!("{descriptors}: {error}"))?;
    let set = prost_types::FileDescriptorSet::decode(bytes.as_slice())?;
    std::fs::create_dir_all(out_dir)?;
    prost_build::Config::new()
        .out_dir(out_dir)
        // Enums stay i32 on the wire; prost adds typed accessors. Keep the generated file free of
        // formatting drift: prost-build formats it with prettyplease.
        .compile_fds(set)?;
    Ok(())
}
