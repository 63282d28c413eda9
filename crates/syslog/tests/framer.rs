//! Framer behaviour: both RFC 6587 methods, mixing, resync after errors, bounded memory.

use nexuslog_syslog::{FrameError, Framer};
use proptest::prelude::*;

fn drain(f: &mut Framer) -> Vec<Result<Vec<u8>, FrameError>> {
    let mut out = Vec::new();
    // Every call consumes input or returns None, so this terminates; the cap proves it.
    for _ in 0..100_000 {
        match f.next_frame() {
            Some(r) => out.push(r),
            None => return out,
        }
    }
    panic!("framer did not make progress");
}

fn ok(s: &str) -> Result<Vec<u8>, FrameError> {
    Ok(s.as_bytes().to_vec())
}

#[test]
fn newline_variants_and_finish() {
    let mut f = Framer::new(1024);
    f.push(b"<13>a\n<13>b\r\n<13>c\0\n\n<13>d");
    assert_eq!(drain(&mut f), vec![ok("<13>a"), ok("<13>b"), ok("<13>c")]);
    assert_eq!(f.buffered(), 5);
    assert_eq!(f.finish(), Some(b"<13>d".to_vec()));
    assert_eq!(f.buffered(), 0);
    assert_eq!(f.finish(), None);
}

#[test]
fn octet_counting_and_mixing() {
    let mut f = Framer::new(1024);
    // Octet-counted frames may contain newlines; a LF trailer after one is tolerated.
    f.push(b"11 <13>a\nb c d8 <13>efgh\n<13>line\n1");
    assert_eq!(
        drain(&mut f),
        vec![ok("<13>a\nb c d"), ok("<13>efgh"), ok("<13>line")]
    );
    f.push(b"1 <13>9 chars");
    assert_eq!(drain(&mut f), vec![ok("<13>9 chars")]);
    // A line that merely starts with a digit is a line, not a length.
    f.push(b"2024-10-03 plain\n12 apples\n");
    assert_eq!(drain(&mut f), vec![ok("2024-10-03 plain"), ok("12 apples")]);
    // An incomplete octet frame at EOF comes back without its header.
    f.push(b"50 <13>cut short");
    assert_eq!(drain(&mut f), vec![]);
    assert_eq!(f.finish(), Some(b"<13>cut short".to_vec()));
}

#[test]
fn oversize_octet_frame_is_skipped_by_its_length() {
    let mut f = Framer::new(8);
    f.push(b"20 <13>0123456789");
    assert_eq!(
        drain(&mut f),
        vec![Err(FrameError::TooLarge {
            declared_or_seen: 20,
            max: 8
        })]
    );
    assert_eq!(f.buffered(), 0);
    f.push(b"abcdef7 <13>ok!");
    assert_eq!(drain(&mut f), vec![ok("<13>ok!")]);
}

#[test]
fn oversize_line_resyncs_at_next_newline() {
    let mut f = Framer::new(8);
    f.push(b"<13>0123456789");
    let err = drain(&mut f);
    assert_eq!(
        err,
        vec![Err(FrameError::TooLarge {
            declared_or_seen: 14,
            max: 8
        })]
    );
    assert_eq!(
        err[0].clone().expect_err("too large").to_string(),
        "frame too large: 14 bytes, the limit is 8"
    );
    f.push(&[b'x'; 10_000]);
    assert_eq!(f.buffered(), 0, "skipped bytes are never buffered");
    f.push(b"tail\n<13>next\n");
    assert_eq!(drain(&mut f), vec![ok("<13>next")]);
    // Exactly max bytes with CRLF fits; max + 1 does not.
    f.push(b"<13>abcd\r\n<13>abcde\n<13>z\n");
    assert_eq!(
        drain(&mut f),
        vec![
            ok("<13>abcd"),
            Err(FrameError::TooLarge {
                declared_or_seen: 9,
                max: 8
            }),
            ok("<13>z")
        ]
    );
}

#[test]
fn bad_length_resyncs() {
    let mut f = Framer::new(64);
    f.push(b"0 <13>x\n<13>after\n007 <13>y\n<13>z\n");
    assert_eq!(
        drain(&mut f),
        vec![
            Err(FrameError::BadLength("zero-length frame".into())),
            ok("<13>after"),
            Err(FrameError::BadLength("length with a leading zero".into())),
            ok("<13>z"),
        ]
    );
}

#[test]
fn skipping_state_drops_tail_at_eof() {
    let mut f = Framer::new(4);
    f.push(b"<13>toolong");
    assert!(matches!(
        drain(&mut f).as_slice(),
        [Err(FrameError::TooLarge { .. })]
    ));
    assert_eq!(f.finish(), None);
    // A fresh start after finish.
    f.push(b"<1>a\n");
    assert_eq!(drain(&mut f), vec![ok("<1>a")]);
}

#[derive(Debug, Clone)]
enum Framing {
    Octet,
    Lf,
    CrLf,
    Nul,
}

const MAX: usize = 200;

/// A message that survives its framing: starts with `<` (every syslog message does); for
/// non-transparent framing no LF/NUL inside and no trailing CR.
fn framed_message() -> impl Strategy<Value = (Vec<u8>, Framing)> {
    let framing = prop_oneof![
        Just(Framing::Octet),
        Just(Framing::Lf),
        Just(Framing::CrLf),
        Just(Framing::Nul)
    ];
    (framing, proptest::collection::vec(any::<u8>(), 0..MAX)).prop_map(|(framing, body)| {
        let mut msg = vec![b'<'];
        match framing {
            Framing::Octet => msg.extend(body),
            _ => {
                msg.extend(body.into_iter().filter(|&c| c != b'\n' && c != b'\0'));
                while msg.len() > 1 && msg.last() == Some(&b'\r') {
                    msg.pop();
                }
            }
        }
        (msg, framing)
    })
}

fn encode(msgs: &[(Vec<u8>, Framing)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (msg, framing) in msgs {
        match framing {
            Framing::Octet => {
                out.extend(format!("{} ", msg.len()).bytes());
                out.extend(msg);
            }
            Framing::Lf => {
                out.extend(msg);
                out.push(b'\n');
            }
            Framing::CrLf => {
                out.extend(msg);
                out.extend(b"\r\n");
            }
            Framing::Nul => {
                out.extend(msg);
                out.push(0);
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any sequence of messages, framed either way and mixed, split anywhere, comes back.
    #[test]
    fn round_trip(msgs in proptest::collection::vec(framed_message(), 0..20), cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..30), drop_last_trailer in any::<bool>()) {
        let mut stream = encode(&msgs);
        // A connection's last message may end without its trailer.
        if drop_last_trailer && matches!(msgs.last(), Some((_, Framing::Lf | Framing::Nul))) {
            stream.pop();
        }
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        points.push(0);
        points.push(stream.len());
        points.sort_unstable();
        let mut f = Framer::new(MAX);
        let mut got = Vec::new();
        for w in points.windows(2) {
            f.push(&stream[w[0]..w[1]]);
            for r in drain(&mut f) {
                got.push(r.expect("valid frames never error"));
            }
            prop_assert!(f.buffered() <= MAX + 11);
        }
        got.extend(f.finish());
        let want: Vec<Vec<u8>> = msgs.into_iter().map(|(m, _)| m).collect();
        prop_assert_eq!(got, want);
    }

    /// Arbitrary bytes in arbitrary chunks: no panic, progress, bounded memory, and frames
    /// never longer than the limit.
    #[test]
    fn arbitrary_input_is_bounded(data in proptest::collection::vec(prop_oneof![any::<u8>(), Just(b'\n'), Just(b'<'), Just(b' '), Just(b'9')], 0..4096), chunk in 1usize..600, max in 1usize..300) {
        let mut f = Framer::new(max);
        for piece in data.chunks(chunk) {
            let before = f.buffered();
            f.push(piece);
            prop_assert!(f.buffered() <= before + piece.len());
            for frame in drain(&mut f).into_iter().flatten() {
                prop_assert!(!frame.is_empty() && frame.len() <= max);
            }
            prop_assert!(f.buffered() <= max + 11, "buffered {} > max {} + header", f.buffered(), max);
        }
        if let Some(tail) = f.finish() {
            prop_assert!(tail.len() <= max + 11);
        }
    }
}
