mod common;
#[test]
fn timing() {
    let imp = conforme_rem::import_xlsx(&common::read(common::REAL_REM), "x").unwrap();
    let big = conforme_rem::scale(&imp.rem, 450);
    let t = std::time::Instant::now();
    let bytes = conforme_rem::export_xlsx(&big).unwrap();
    let e = t.elapsed();
    let t = std::time::Instant::now();
    let back = conforme_rem::import_xlsx(&bytes, "x").unwrap();
    println!("rows {} bytes {} export {:?} import {:?} warnings {}", big.proof_line_count(), bytes.len(), e, t.elapsed(), back.warnings.len());
    assert_eq!(back.rem, big);
}
