use super::idct::{descale, range_limit};

#[test]
fn the_range_limit_is_libjpegs_table() {
    assert_eq!(range_limit(0), 128);
    assert_eq!(range_limit(127), 255);
    assert_eq!(range_limit(300), 255);
    assert_eq!(range_limit(-1), 127);
    assert_eq!(range_limit(-128), 0);
    assert_eq!(range_limit(-300), 0);
    assert_eq!(descale(-4, 3), 0);
    assert_eq!(descale(-5, 3), -1);
    assert_eq!(descale(12, 3), 2);
}
