//! A small JSON reader for the files the engine parses: `tokenizer.json` (`tokenizer.rs`), the
//! safetensors header and its `config` (`weights.rs`), and `heads.json` (`heads.rs`). It exists
//! because `serde_json` (with a derived `Deserialize`) costs about 100 KB of wasm, two thirds of the
//! shipped module's budget; this one is a few KB. `tests/json.rs` checks it against `serde_json` on
//! generated documents.
//!
//! It follows RFC 8259 (UTF-8 input, no trailing commas, no comments, no NaN), keeps object members
//! in file order (so duplicate keys can be reported), keeps numbers as their source text (converted
//! on demand), and limits nesting to [`MAX_DEPTH`] so hostile input cannot overflow the stack.

/// The deepest nesting of arrays and objects accepted (real files need 4).
pub const MAX_DEPTH: usize = 64;

/// A parsed JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// A number, as written in the file (validated against the JSON grammar).
    Number(String),
    String(String),
    Array(Vec<Json>),
    /// Members in file order; keys may repeat (see [`Json::get`]).
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Parses a whole document. Errors read "at byte N: expected …, found …".
    pub fn parse(bytes: &[u8]) -> Result<Json, String> {
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => return Err(format!("at byte {}: expected UTF-8 text, found an invalid byte", e.valid_up_to())),
        };
        let mut p = Parser { s: text.as_bytes(), i: 0, text };
        let value = p.value(0)?;
        p.skip_space();
        if p.i < p.s.len() {
            return Err(p.unexpected("the end of the document"));
        }
        Ok(value)
    }

    /// The value of the last member named `key`, if this is an object that has one.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[(String, Json)]> {
        match self {
            Json::Object(members) => Some(members),
            _ => None,
        }
    }

    /// A non-negative integer written without fraction or exponent, if it fits in a u64.
    pub fn as_u64(&self) -> Option<u64> {
        let Json::Number(text) = self else { return None };
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.bytes().try_fold(0u64, |acc, d| acc.checked_mul(10)?.checked_add(u64::from(d - b'0')))
    }

    /// The number as f64, from its first 19 significant digits times a power of ten: correctly
    /// rounded when those digits fit in 2⁵³ and the power is within ±22 (the classic exact fast path:
    /// one exact integer, one exact power, one rounding), within 2⁻⁵¹ relative (two units in the last
    /// place) for any other power within ±22, and within 10⁻¹⁴ relative beyond (the power itself is
    /// then computed, with a few roundings), give or take a few steps of the smallest subnormal
    /// below f64's normal range. `tests/json.rs` holds it to these bounds against `serde_json`. (A
    /// correctly rounded parser costs about 20 KB of wasm; the engine reads a few floats such as
    /// `ln_eps`, `rope_base` and the head profile's fractions, all on the fast path.)
    pub fn as_f64(&self) -> Option<f64> {
        let Json::Number(text) = self else { return None };
        let (negative, rest) = match text.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, text.as_str()),
        };
        let (mantissa_text, exponent_text) = match rest.find(['e', 'E']) {
            Some(k) => (&rest[..k], Some(&rest[k + 1..])),
            None => (rest, None),
        };
        let mut exponent: i64 = match exponent_text {
            None => 0,
            Some(e) => {
                let (sign, digits) = match e.as_bytes().first() {
                    Some(b'-') => (-1, &e[1..]),
                    Some(b'+') => (1, &e[1..]),
                    _ => (1, e),
                };
                if digits.is_empty() || !digits.bytes().all(|d| d.is_ascii_digit()) {
                    return None;
                }
                let magnitude = digits.bytes().try_fold(0i64, |acc, d| acc.checked_mul(10)?.checked_add(i64::from(d - b'0')));
                sign * magnitude.unwrap_or(100_000).min(100_000)
            }
        };
        let mut mantissa: u64 = 0;
        let mut significant = 0; // digits in `mantissa`, leading zeros not counted
        let mut seen_point = false;
        if mantissa_text.is_empty() || !mantissa_text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return None;
        }
        for b in mantissa_text.bytes() {
            match b {
                b'.' => seen_point = true,
                d if significant < 19 => {
                    // 19 digits fit in a u64 (10¹⁹ − 1 < 2⁶⁴); the rest change the value by less than 10⁻¹⁸ of it
                    mantissa = mantissa * 10 + u64::from(d - b'0');
                    significant += usize::from(mantissa > 0);
                    if seen_point {
                        exponent -= 1;
                    }
                }
                _ if !seen_point => exponent += 1, // digits beyond the 19th still scale an integer part
                _ => {}
            }
        }
        let m = mantissa as f64;
        let value = if mantissa == 0 {
            0.0
        } else if exponent >= 0 {
            m * 10f64.powi(exponent.min(400) as i32)
        } else if exponent >= -308 {
            m / 10f64.powi((-exponent) as i32)
        } else {
            m / 10f64.powi(308) / 10f64.powi((-exponent - 308).min(400) as i32)
        };
        Some(if negative { -value } else { value })
    }

    /// A short description for error messages: `null`, `true`, `3`, `"text"`, `an array`, `an object`
    /// (or an object's `type` member, such as `WordPiece`).
    pub fn describe(&self) -> String {
        match self {
            Json::Null => "null".into(),
            Json::Bool(b) => if *b { "true" } else { "false" }.into(),
            Json::Number(n) => n.clone(),
            Json::String(s) => quote(s),
            Json::Array(_) => "an array".into(),
            Json::Object(_) => match self.get("type") {
                Some(Json::String(t)) => t.clone(),
                _ => "an object".into(),
            },
        }
    }
}

/// `s` in double quotes, with quotes, backslashes and control characters escaped (for messages).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    text: &'a str,
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    fn unexpected(&self, expected: &str) -> String {
        let found = match self.text.get(self.i..).and_then(|rest| rest.chars().next()) {
            None => "the end of the input".to_string(),
            Some(c) if c.is_control() => format!("the control character U+{:04X}", u32::from(c)),
            Some(c) => format!("'{c}'"),
        };
        format!("at byte {}: expected {expected}, found {found}", self.i)
    }

    fn value(&mut self, depth: usize) -> Result<Json, String> {
        self.skip_space();
        match self.s.get(self.i) {
            Some(b'{') | Some(b'[') if depth >= MAX_DEPTH => {
                Err(format!("at byte {}: expected at most {MAX_DEPTH} levels of nesting, found more", self.i))
            }
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(Json::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            _ => Err(self.unexpected("a value")),
        }
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, String> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(value)
        } else {
            Err(self.unexpected(word))
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, String> {
        self.i += 1; // {
        let mut members = Vec::new();
        self.skip_space();
        if self.s.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Ok(Json::Object(members));
        }
        loop {
            self.skip_space();
            if self.s.get(self.i) != Some(&b'"') {
                return Err(self.unexpected("a member name in double quotes"));
            }
            let key = self.string()?;
            self.skip_space();
            if self.s.get(self.i) != Some(&b':') {
                return Err(self.unexpected("':'"));
            }
            self.i += 1;
            let value = self.value(depth + 1)?;
            members.push((key, value));
            self.skip_space();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Json::Object(members));
                }
                _ => return Err(self.unexpected("',' or '}'")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json, String> {
        self.i += 1; // [
        let mut items = Vec::new();
        self.skip_space();
        if self.s.get(self.i) == Some(&b']') {
            self.i += 1;
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_space();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.unexpected("',' or ']'")),
            }
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Result<Json, String> {
        let start = self.i;
        let digits = |p: &mut Self| {
            let from = p.i;
            while let Some(b'0'..=b'9') = p.s.get(p.i) {
                p.i += 1;
            }
            p.i > from
        };
        if self.s.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        if self.s.get(self.i) == Some(&b'0') {
            self.i += 1;
        } else if !digits(self) {
            return Err(self.unexpected("a digit"));
        }
        if self.s.get(self.i) == Some(&b'.') {
            self.i += 1;
            if !digits(self) {
                return Err(self.unexpected("a digit after '.'"));
            }
        }
        if let Some(b'e' | b'E') = self.s.get(self.i) {
            self.i += 1;
            if let Some(b'+' | b'-') = self.s.get(self.i) {
                self.i += 1;
            }
            if !digits(self) {
                return Err(self.unexpected("a digit in the exponent"));
            }
        }
        Ok(Json::Number(self.text[start..self.i].to_string()))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.s.get(self.i) {
                Some(&b) => (b as char).to_digit(16),
                None => None,
            };
            match d {
                Some(d) => v = v * 16 + d,
                None => return Err(self.unexpected("a hex digit")),
            }
            self.i += 1;
        }
        Ok(v)
    }

    fn string(&mut self) -> Result<String, String> {
        self.i += 1; // opening quote
        let mut out = String::new();
        loop {
            // copy the run of plain characters at once (the input is valid UTF-8, so is the run)
            let from = self.i;
            while let Some(&b) = self.s.get(self.i) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.i += 1;
            }
            out.push_str(&self.text[from..self.i]);
            match self.s.get(self.i) {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let escaped = match self.s.get(self.i) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.i += 1;
                            let unit = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&unit) {
                                if !self.s[self.i..].starts_with(b"\\u") {
                                    return Err(self.unexpected("a low surrogate \\uDC00-\\uDFFF after a high one"));
                                }
                                self.i += 2;
                                let low = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return Err(format!("at byte {}: expected a low surrogate, found \\u{low:04X}", self.i - 6));
                                }
                                0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                unit
                            };
                            match char::from_u32(code) {
                                Some(c) => out.push(c),
                                None => {
                                    return Err(format!(
                                        "at byte {}: expected a Unicode scalar value, found the lone surrogate \\u{code:04X}",
                                        self.i - 6
                                    ))
                                }
                            }
                            continue;
                        }
                        _ => return Err(self.unexpected("an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)")),
                    };
                    out.push(escaped);
                    self.i += 1;
                }
                Some(_) => return Err(self.unexpected("a character, or a control character escaped")),
                None => return Err(self.unexpected("'\"' closing the string")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_grammar() {
        let v =
            Json::parse(br#" {"a": [1, -2.5e3, true, false, null], "b": "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "a": {}} "#).expect("valid");
        assert_eq!(v.get("a"), Some(&Json::Object(vec![])), "the last duplicate wins in get");
        assert_eq!(v.as_object().map(<[_]>::len), Some(3));
        assert_eq!(v.get("b").and_then(Json::as_str), Some("x\"\\/\u{8}\u{c}\n\r\té😀"));
        let first = &v.as_object().expect("object")[0].1;
        let items = first.as_array().expect("array");
        assert_eq!(items[0].as_u64(), Some(1));
        assert_eq!(items[1].as_f64(), Some(-2500.0));
        assert_eq!(items[1].as_u64(), None);
    }

    #[test]
    fn numbers_convert() {
        let n = |s: &str| Json::Number(s.into());
        assert_eq!(n("1e-05").as_f64(), Some(1e-5));
        assert_eq!(n("1e-05").as_f64().map(|x| x as f32), Some(1e-5f32));
        assert_eq!(n("0.000001").as_f64(), Some(1e-6));
        assert_eq!(n("-0.5").as_f64(), Some(-0.5));
        assert_eq!(n("123456789012345678901234567890").as_f64().map(|x| (x / 1.234_567_890_123_456_7e29 - 1.0).abs() < 1e-15), Some(true));
        assert_eq!(n("18446744073709551615").as_u64(), Some(u64::MAX));
        assert_eq!(n("18446744073709551616").as_u64(), None);
        assert_eq!(n("1e999").as_f64(), Some(f64::INFINITY));
        assert_eq!(n("1e-999").as_f64(), Some(0.0));
    }

    #[test]
    fn refuses_what_json_refuses() {
        for (text, part) in [
            (&b""[..], "at byte 0: expected a value, found the end of the input"),
            (b"{", "expected a member name"),
            (b"[1,]", "at byte 3: expected a value, found ']'"),
            (b"{\"a\" 1}", "expected ':'"),
            (b"01", "expected the end of the document, found '1'"),
            (b"-", "expected a digit"),
            (b"1.", "expected a digit after '.'"),
            (b"1e", "expected a digit in the exponent"),
            (b"NaN", "expected a value, found 'N'"),
            (b"\"a\nb\"", "found the control character U+000A"),
            (b"\"\\x\"", "expected an escape"),
            (b"\"\\ud800\"", "expected a low surrogate"),
            (b"\"\\udc00\"", "the lone surrogate \\uDC00"),
            (b"\"abc", "expected '\"' closing the string, found the end of the input"),
            (b"tru", "expected true"),
            (b"\"\xff\"", "at byte 1: expected UTF-8 text"),
        ] {
            let message = Json::parse(text).expect_err("refused");
            assert!(message.contains(part), "{:?}: {message}", String::from_utf8_lossy(text));
        }
        let deep = "[".repeat(MAX_DEPTH + 1);
        assert!(Json::parse(deep.as_bytes()).expect_err("too deep").contains("levels of nesting"));
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(Json::parse(ok.as_bytes()).is_ok());
    }

    #[test]
    fn quotes_for_messages() {
        assert_eq!(quote("a\"b\\c\nd\u{0}"), "\"a\\\"b\\\\c\\nd\\u{0}\"");
        assert_eq!(Json::parse(br#"{"type": "NFC"}"#).map(|v| v.describe()), Ok("NFC".to_string()));
    }
}
