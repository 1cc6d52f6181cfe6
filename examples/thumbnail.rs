//! One image through the public API: `cargo run --example thumbnail -- IN OUT.png [SIZE]`
//! writes the gray thumbnail of IN (any format imgpar reads) fitting in SIZE x SIZE
//! (default 256).

use imgpar::{Conversion, OutputFormat, Spec, thumbnail};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (input, output) = match args.as_slice() {
        [input, output, ..] => (input, output),
        _ => return Err("usage: thumbnail IN OUT.png [SIZE]".into()),
    };
    let side: u32 = args.get(2).map_or(Ok(256), |s| s.parse())?;
    let spec = Spec::converting(Conversion {
        width: Some(side),
        height: Some(side),
        ..Conversion::default()
    });
    let small = thumbnail(&std::fs::read(input)?, &spec, OutputFormat::Png)?;
    std::fs::write(output, &small.bytes)?;
    println!(
        "{input}: {}x{} -> {output}: {}x{}",
        small.input_size.0, small.input_size.1, small.size.0, small.size.1
    );
    Ok(())
}
