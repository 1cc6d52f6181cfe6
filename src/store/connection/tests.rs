use super::*;

/// An output name with a `.` or `..` folder never becomes a request: no key outside
/// the output prefix can be written.
#[test]
fn keys_that_climb_out_of_their_prefix_are_refused() {
    let root = ObjectUrl::parse("s3://b/out").unwrap().unwrap();
    for rel in ["../x.png", "a/../../x.png", "./x.png", "a//x.png"] {
        let url = ObjectUrl {
            key: format!("{}/{rel}", root.key),
            ..root.clone()
        };
        assert!(key(&url).is_err(), "{rel}");
    }
    assert!(key(&root.join("a/b x#1.png")).is_ok());
}

#[test]
fn server_errors_read_as_their_code_and_message() {
    let text = "Error performing GET http://h/b?list-type=2 - 404 Not Found: <?xml \
                version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The specified \
                bucket does not exist</Message><RequestId>x</RequestId></Error>";
    assert_eq!(
        server_said(text).as_deref(),
        Some("the server says NoSuchBucket: The specified bucket does not exist")
    );
    assert_eq!(server_said("connection refused"), None);
}
