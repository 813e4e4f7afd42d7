//! `sheepdog text scan`: one JSON object per input line, error lines for bad input, custom
//! lexicons and allow-lists, exit codes.

use serde_json::Value;

fn scan(args: &[&str], stdin: &[u8]) -> (i32, Vec<Value>, String) {
    let all: Vec<&str> = ["text", "scan"].into_iter().chain(args.iter().copied()).collect();
    crate::run_ndjson(&all, stdin)
}

#[test]
fn one_object_per_line_with_error_lines_for_invalid_utf8() {
    let mut input = Vec::new();
    input.extend_from_slice("专业接碼 加薇信 ab1234\n".as_bytes());
    input.extend_from_slice("微信支付可以吗\r\n".as_bytes());
    input.extend_from_slice(b"bad \xff\xfe bytes\n");
    input.extend_from_slice(b"\n");
    input.extend_from_slice("出售老号".as_bytes());
    let (code, lines, stderr) = scan(&[], &input);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(lines.len(), 5);
    let first = &lines[0]["matches"];
    assert_eq!(first[0]["term"], "接码");
    assert_eq!(first[0]["category"], "code_receiving");
    assert_eq!((first[0]["start"].as_u64(), first[0]["end"].as_u64()), (Some(2), Some(4)));
    assert_eq!(first[0]["matched"], "接碼");
    assert_eq!(first[1]["category"], "contact_diversion");
    assert_eq!(lines[1]["matches"].as_array().map(Vec::len), Some(0));
    assert_eq!(lines[2]["error"]["code"], "invalid_utf8");
    assert_eq!(lines[2]["error"]["line"], 3);
    assert!(lines[2]["error"]["message"].as_str().unwrap().contains("line 3"));
    assert_eq!(lines[3]["matches"].as_array().map(Vec::len), Some(0));
    assert_eq!(lines[4]["matches"][0]["matched"], "出售老号");
}

#[test]
fn text_argument_and_custom_lexicon() {
    let dir = tempfile::tempdir().unwrap();
    let lexicon = dir.path().join("extra.tsv");
    std::fs::write(&lexicon, "# ours\n龟孙\tscam_romance\t10\n").unwrap();
    let allow = dir.path().join("allow.txt");
    std::fs::write(&allow, "龟孙可\n").unwrap();
    let (code, lines, stderr) = scan(
        &[
            "--no-default-lexicon",
            "--lexicon",
            lexicon.to_str().unwrap(),
            "--allow",
            allow.to_str().unwrap(),
            "你个龟孙，龟孙可以，接码",
        ],
        b"",
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(lines.len(), 1);
    let m = lines[0]["matches"].as_array().unwrap();
    assert_eq!(m.len(), 1, "only the first 龟孙; 接码 is not in an empty lexicon");
    assert_eq!(m[0]["category"], "scam_romance");
    assert_eq!(m[0]["start"], 2);
}

#[test]
fn invalid_lexicon_exits_2_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let lexicon = dir.path().join("bad.tsv");
    std::fs::write(&lexicon, "接码\tcode_receiving\n卡商\tnot_a_category\n").unwrap();
    let (code, lines, stderr) = scan(&["--lexicon", lexicon.to_str().unwrap(), "x"], b"");
    assert_eq!(code, 2);
    assert!(lines.is_empty());
    assert!(stderr.contains("bad.tsv:2: unknown category `not_a_category`"), "{stderr}");
}
