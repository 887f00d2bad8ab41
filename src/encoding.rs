//! Bytes → text: BOM sniffing, UTF-8 validation, legacy Chinese encodings (GB18030/GBK, Big5)
//! detected with chardetng, and binary detection. Never fails on text; says what it did.

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};

/// How a file's bytes became text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// Valid UTF-8 (a BOM, if any, removed).
    Utf8(String),
    /// Decoded from another encoding, named.
    Converted(String, &'static str),
    /// Mostly UTF-8 with some invalid bytes, replaced by U+FFFD.
    Repaired(String, usize),
    /// Text with a few NUL bytes (a stray byte from a bad copy or an editor), dropped before
    /// decoding the rest as above.
    NulsDropped(Box<Decoded>, usize),
}

impl Decoded {
    /// The decoded text.
    #[cfg(test)]
    pub fn text(&self) -> &str {
        match self {
            Decoded::Utf8(t) | Decoded::Converted(t, _) | Decoded::Repaired(t, _) => t,
            Decoded::NulsDropped(inner, _) => inner.text(),
        }
    }

    /// Takes the decoded text.
    pub fn into_text(self) -> String {
        match self {
            Decoded::Utf8(t) | Decoded::Converted(t, _) | Decoded::Repaired(t, _) => t,
            Decoded::NulsDropped(inner, _) => inner.into_text(),
        }
    }

    /// A warning worth telling the user, if decoding was not plain UTF-8.
    pub fn note(&self) -> Option<String> {
        match self {
            Decoded::Utf8(_) => None,
            Decoded::Converted(_, name) => Some(format!("decoded as {name}")),
            Decoded::Repaired(_, n) => Some(format!("{n} invalid UTF-8 sequence(s) replaced")),
            Decoded::NulsDropped(inner, n) => {
                let dropped = format!("{n} NUL byte(s) dropped");
                Some(match inner.note() {
                    Some(more) => format!("{dropped}; {more}"),
                    None => dropped,
                })
            }
        }
    }
}

/// Why bytes are not text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotText {
    /// Zero bytes (or only a BOM / whitespace).
    Empty,
    /// Looks like a binary file (NUL bytes or too many control characters).
    Binary,
}

/// Bytes examined to decide whether a file is binary.
const SNIFF_BYTES: usize = 8192;
/// At most one NUL byte in this many is a stray in a text file rather than binary data
/// (UTF-16 without a BOM has one in two for Latin text).
const NUL_SHARE: usize = 100;

/// Decodes file contents into text. A text file with a few NUL bytes keeps its text: the
/// NULs are dropped and counted.
pub fn decode(bytes: &[u8]) -> Result<Decoded, NotText> {
    let nuls = bytes.iter().filter(|&&b| b == 0).count();
    if nuls == 0 || nuls * NUL_SHARE > bytes.len() || Encoding::for_bom(bytes).is_some() {
        return decode_text(bytes);
    }
    let without: Vec<u8> = bytes.iter().copied().filter(|&b| b != 0).collect();
    Ok(Decoded::NulsDropped(Box::new(decode_text(&without)?), nuls))
}

fn decode_text(bytes: &[u8]) -> Result<Decoded, NotText> {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let body = &bytes[bom_len..];
        let (text, had_errors) = encoding.decode_without_bom_handling(body);
        let text = text.into_owned();
        if text.trim().is_empty() {
            return Err(NotText::Empty);
        }
        return Ok(if encoding == UTF_8 {
            if had_errors { Decoded::Repaired(text, count_replacements(body)) } else { Decoded::Utf8(text) }
        } else {
            Decoded::Converted(text, encoding_label(encoding))
        });
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(NotText::Empty);
    }
    if looks_binary(bytes) {
        return Err(NotText::Binary);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Decoded::Utf8(text.to_string()));
    }
    let invalid = count_replacements(bytes);
    // A UTF-8 file with a few broken bytes (a truncated download, a bad copy) is still UTF-8;
    // guessing a legacy encoding for it would garble every Chinese character. "A few": rare in
    // the file, or far outnumbered by well-formed multi-byte characters, whatever the file's
    // size (GBK or Big5 text read as UTF-8 is mostly broken sequences, seldom a valid one).
    let repaired = String::from_utf8_lossy(bytes);
    let wide = repaired.chars().filter(|&c| !c.is_ascii() && c != '\u{FFFD}').count();
    if invalid * 200 < bytes.len() || wide >= 8 * invalid {
        return Ok(Decoded::Repaired(repaired.into_owned(), invalid));
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let encoding = detector.guess(None, chardetng::Utf8Detection::Allow);
    let (text, _) = encoding.decode_without_bom_handling(bytes);
    Ok(Decoded::Converted(text.into_owned(), encoding_label(encoding)))
}

fn encoding_label(encoding: &'static Encoding) -> &'static str {
    if encoding == UTF_16LE {
        "UTF-16LE"
    } else if encoding == UTF_16BE {
        "UTF-16BE"
    } else {
        encoding.name()
    }
}

/// Number of invalid UTF-8 sequences in `bytes`.
fn count_replacements(mut bytes: &[u8]) -> usize {
    let mut count = 0;
    loop {
        match std::str::from_utf8(bytes) {
            Ok(_) => return count,
            Err(e) => {
                count += 1;
                let skip = e.valid_up_to() + e.error_len().unwrap_or(bytes.len() - e.valid_up_to());
                bytes = &bytes[skip..];
            }
        }
    }
}

/// NUL bytes or many C0 control characters in the first block mean binary data (UTF-16
/// without a BOM included, which cannot be told from binary reliably).
fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
    if head.contains(&0) {
        return true;
    }
    let controls = head.iter().filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c | 0x1b)).count();
    controls * 10 > head.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(decode("芬太尼".as_bytes()), Ok(Decoded::Utf8("芬太尼".into())));
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice("芬太尼".as_bytes());
        assert_eq!(decode(&bom), Ok(Decoded::Utf8("芬太尼".into())));
    }

    #[test]
    fn utf16_with_bom() {
        // encoding_rs encodes to UTF-16 as UTF-8 (the WHATWG rule), so build the bytes by hand.
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "实体清单 list".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(decode(&bytes).unwrap().text(), "实体清单 list");
        let mut be = vec![0xFE, 0xFF];
        for unit in "芬太尼".encode_utf16() {
            be.extend_from_slice(&unit.to_be_bytes());
        }
        assert_eq!(decode(&be), Ok(Decoded::Converted("芬太尼".into(), "UTF-16BE")));
    }

    #[test]
    fn gbk_and_big5_are_detected() {
        let text = "美国政府计划解除对中国法医科学研究院的限制，以促使中方在芬太尼问题上合作。";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let decoded = decode(&gbk).unwrap();
        assert_eq!(decoded.text(), text);
        assert!(decoded.note().unwrap().contains("GB"), "{:?}", decoded.note());

        let trad = "美國政府計劃解除對中國法醫科學研究院的限制，以促使中方在芬太尼問題上合作。";
        let (big5, _, _) = encoding_rs::BIG5.encode(trad);
        let decoded = decode(&big5).unwrap();
        assert_eq!(decoded.text(), trad);
        assert_eq!(decoded.note().unwrap(), "decoded as Big5");
    }

    #[test]
    fn a_few_bad_bytes_are_replaced_not_reinterpreted() {
        let mut bytes = "芬太尼危机 ".repeat(100).into_bytes();
        bytes.push(0xFF);
        bytes.extend_from_slice("实体清单".as_bytes());
        let decoded = decode(&bytes).unwrap();
        assert_eq!(decoded, Decoded::Repaired(decoded.text().to_string(), 1));
        assert!(decoded.text().ends_with("\u{FFFD}实体清单"));
    }

    #[test]
    fn a_small_utf8_file_with_one_bad_byte_is_utf8() {
        let mut bytes = "北京欢迎你".as_bytes().to_vec();
        bytes.push(0xFF);
        bytes.extend_from_slice("今天天气很好。\n".as_bytes());
        let decoded = decode(&bytes).unwrap();
        assert_eq!(decoded, Decoded::Repaired("北京欢迎你\u{FFFD}今天天气很好。\n".into(), 1));
        // Short GBK text stays GBK: as UTF-8 it is nearly all broken sequences.
        let (gbk, _, _) = encoding_rs::GBK.encode("北京欢迎你今天天气很好。");
        assert!(decode(&gbk).unwrap().note().unwrap().contains("GB"));
    }

    #[test]
    fn empty_and_binary_are_not_text() {
        assert_eq!(decode(b""), Err(NotText::Empty));
        assert_eq!(decode(b" \n\t"), Err(NotText::Empty));
        assert_eq!(decode(&[0xEF, 0xBB, 0xBF]), Err(NotText::Empty));
        assert_eq!(decode(b"\x7fELF\x02\x01\x01\0\0\0"), Err(NotText::Binary));
        let noise: Vec<u8> = (0..1000u32).map(|i| (i % 7) as u8 + 1).collect();
        assert_eq!(decode(&noise), Err(NotText::Binary));
        // Half NUL bytes: UTF-16 without a BOM or binary, not text with a stray byte.
        let utf16: Vec<u8> = "plain words here ".repeat(20).bytes().flat_map(|b| [b, 0]).collect();
        assert_eq!(decode(&utf16), Err(NotText::Binary));
    }

    #[test]
    fn a_stray_nul_byte_keeps_the_text() {
        let mut bytes = "北京欢迎你。今天天气很好，适合出门散步。".repeat(10).into_bytes();
        bytes.insert(30, 0);
        let decoded = decode(&bytes).unwrap();
        assert_eq!(decoded.text(), "北京欢迎你。今天天气很好，适合出门散步。".repeat(10));
        assert_eq!(decoded.note().as_deref(), Some("1 NUL byte(s) dropped"));
    }
}
