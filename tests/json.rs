//! The engine's JSON reader (`src/json.rs`) against `serde_json` on generated documents, natively and
//! in headless Chromium: on valid documents (every value kind, every escape, raw and escaped non-ASCII,
//! astral chars as surrogate pairs, duplicate keys, whitespace anywhere it may go) both must read the
//! same values; on mutated ones (a byte inserted, deleted or replaced, or the text cut short) both
//! must accept or both refuse. The generator is seeded, so a failure names the document that failed.

use attention_explorer::json::Json;
use serde_json::Value;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// SplitMix64: a small, seeded, well-mixed generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in 0..n.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

/// Whitespace JSON allows between tokens (space, tab, line feed, carriage return), often none.
fn space(r: &mut Rng, out: &mut String) {
    for _ in 0..[0, 0, 0, 1, 2][r.below(5)] {
        out.push(r.pick(&[' ', '\t', '\n', '\r']));
    }
}

/// A char for a string: ASCII, an escape-worthy one, a 2- or 3-byte one, or an astral one.
fn string_char(r: &mut Rng) -> char {
    match r.below(6) {
        0 | 1 => char::from(b' ' + r.below(95) as u8),
        2 => r.pick(&['"', '\\', '/', '\u{8}', '\u{c}', '\n', '\r', '\t', '\u{0}', '\u{1f}', '\u{7f}']),
        3 => char::from_u32(0x80 + r.below(0x780) as u32).unwrap_or('é'),
        4 => char::from_u32(0x800 + r.below(0xD000) as u32).unwrap_or('€'),
        _ => char::from_u32(0x10000 + r.below(0xF0000) as u32).unwrap_or('🦊'),
    }
}

/// `s` as a JSON string literal, each char written raw or escaped (where JSON lets it be raw).
fn write_string(r: &mut Rng, s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        let short = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\u{8}' => Some("\\b"),
            '\u{c}' => Some("\\f"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '/' if r.below(2) == 0 => Some("\\/"),
            _ => None,
        };
        let must_escape = c < ' ' || c == '"' || c == '\\';
        match (short, must_escape || r.below(4) == 0) {
            (Some(e), true) => out.push_str(e),
            (_, true) => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&if r.below(2) == 0 { format!("\\u{u:04x}") } else { format!("\\u{u:04X}") });
                }
            }
            (_, false) => out.push(c),
        }
    }
    out.push('"');
}

/// A number in JSON's grammar: an integer of 1 to 20 digits (past u64 sometimes), or a decimal with
/// an exponent within f64's range.
fn write_number(r: &mut Rng, out: &mut String) {
    if r.below(3) == 0 {
        out.push('-');
    }
    let most = if r.below(4) == 0 { 20 } else { 9 };
    let digits = 1 + r.below(most);
    let first = if digits == 1 { r.below(10) } else { 1 + r.below(9) };
    out.push(char::from(b'0' + first as u8));
    for _ in 1..digits {
        out.push(char::from(b'0' + r.below(10) as u8));
    }
    if r.below(2) == 0 {
        out.push('.');
        for _ in 0..1 + r.below(8) {
            out.push(char::from(b'0' + r.below(10) as u8));
        }
    }
    if r.below(3) == 0 {
        out.push(r.pick(&['e', 'E']));
        out.push_str(r.pick(&["", "+", "-"]));
        out.push_str(&r.below(40).to_string());
    }
}

/// A random document of nesting at most `depth`. Object keys come from a small pool, so repeats occur.
fn write_value(r: &mut Rng, depth: usize, out: &mut String) {
    space(r, out);
    let kind = if depth == 0 { r.below(5) } else { r.below(7) };
    match kind {
        0 => out.push_str("null"),
        1 => out.push_str(r.pick(&["true", "false"])),
        2 | 3 => write_number(r, out),
        4 => {
            let s: String = (0..r.below(8)).map(|_| string_char(r)).collect();
            write_string(r, &s, out);
        }
        5 => {
            out.push('[');
            let n = r.below(5);
            for i in 0..n {
                if i > 0 {
                    out.push(',');
                }
                write_value(r, depth - 1, out);
            }
            space(r, out);
            out.push(']');
        }
        _ => {
            out.push('{');
            let n = r.below(5);
            for i in 0..n {
                if i > 0 {
                    out.push(',');
                }
                space(r, out);
                let key = r.pick(&["a", "b", "type", "", "é", "🦊", "a\"b"]);
                write_string(r, key, out);
                space(r, out);
                out.push(':');
                write_value(r, depth - 1, out);
            }
            space(r, out);
            out.push('}');
        }
    }
    space(r, out);
}

/// How far `Json::as_f64` may be from the correctly rounded `want` for `text`, as json.rs promises:
/// the value is its first 19 significant digits D times 10ᵏ; exact when D < 2⁵³ and |k| ≤ 22, two
/// units in the last place (2⁻⁵¹ relative) for other D with |k| ≤ 22, 10⁻¹⁴ relative beyond (give
/// or take a few steps of the smallest subnormal).
fn tolerance(text: &str, want: f64) -> f64 {
    let unsigned = text.trim_start_matches('-');
    let (mantissa, e) = match unsigned.find(['e', 'E']) {
        Some(k) => (&unsigned[..k], unsigned[k + 1..].parse::<i64>().unwrap_or(i64::MAX / 2)),
        None => (unsigned, 0),
    };
    let fraction = mantissa.split_once('.').map_or(0, |(_, f)| f.len() as i64);
    let digits = mantissa.replace('.', "");
    let significant = digits.trim_start_matches('0');
    let kept = &significant[..significant.len().min(19)];
    let d: u64 = kept.parse().unwrap_or(0);
    let k = e - fraction + (significant.len() as i64 - 19).max(0);
    if d < 1 << 53 && k.abs() <= 22 {
        0.0
    } else if k.abs() <= 22 {
        want.abs() * 2f64.powi(-51)
    } else {
        want.abs() * 1e-14 + 8.0 * f64::from_bits(1)
    }
}

/// The same value, or where they differ.
fn same(ours: &Json, theirs: &Value, at: &str) -> Result<(), String> {
    let differ = || Err(format!("at {at}: ours {ours:?}, serde_json's {theirs}"));
    match (ours, theirs) {
        (Json::Null, Value::Null) => Ok(()),
        (Json::Bool(a), Value::Bool(b)) if a == b => Ok(()),
        (Json::String(a), Value::String(b)) if a == b => Ok(()),
        (Json::Number(text), Value::Number(n)) => {
            if let Some(u) = n.as_u64() {
                if !text.starts_with('-') && ours.as_u64() != Some(u) {
                    return differ();
                }
            }
            let ok = match (ours.as_f64(), n.as_f64()) {
                (Some(a), Some(b)) => a == b || (a - b).abs() <= tolerance(text, b),
                _ => false,
            };
            if ok {
                Ok(())
            } else {
                differ()
            }
        }
        (Json::Array(a), Value::Array(b)) if a.len() == b.len() => {
            a.iter().zip(b).enumerate().try_for_each(|(i, (x, y))| same(x, y, &format!("{at}[{i}]")))
        }
        (Json::Object(members), Value::Object(map)) => {
            // serde_json keeps the last of repeated keys; `Json::get` reads the last one too
            let mut keys: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
            keys.sort_unstable();
            keys.dedup();
            if keys.len() != map.len() {
                return differ();
            }
            keys.into_iter().try_for_each(|k| match (ours.get(k), map.get(k)) {
                (Some(x), Some(y)) => same(x, y, &format!("{at}.{k:?}")),
                _ => differ(),
            })
        }
        _ => differ(),
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn valid_documents_read_as_serde_json_reads_them() {
    let mut r = Rng(12);
    for case in 0..3000 {
        let mut doc = String::new();
        write_value(&mut r, 1 + case % 6, &mut doc);
        let theirs: Value = serde_json::from_str(&doc).unwrap_or_else(|e| panic!("case {case}: serde_json refused {doc:?}: {e}"));
        let ours = Json::parse(doc.as_bytes()).unwrap_or_else(|e| panic!("case {case}: refused {doc:?}: {e}"));
        if let Err(e) = same(&ours, &theirs, "$") {
            panic!("case {case}: {doc:?}\n{e}");
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn mutated_documents_are_accepted_or_refused_as_serde_json_does() {
    const BYTES: &[u8] = b" \t\n\r,:[]{}\"\\/0123456789.eE+-tfnulrsabux\x00\x1f\x7f\xc3\xa9\xed\xa0\x80\xff";
    let mut r = Rng(2024);
    let (mut accepted, mut refused) = (0, 0);
    for case in 0..4000 {
        let mut doc = String::new();
        write_value(&mut r, 1 + case % 5, &mut doc);
        let mut bytes = doc.into_bytes();
        let at = r.below(bytes.len() + 1);
        match r.below(4) {
            0 => bytes.insert(at, r.pick(BYTES)),
            1 if at < bytes.len() => {
                bytes.remove(at);
            }
            2 if at < bytes.len() => bytes[at] = r.pick(BYTES),
            _ => bytes.truncate(at),
        }
        let theirs = serde_json::from_slice::<Value>(&bytes);
        // serde_json refuses numbers beyond f64's range, which this reader keeps as text: not a difference
        if theirs.as_ref().is_err_and(|e| e.to_string().contains("number out of range")) {
            continue;
        }
        let ours = Json::parse(&bytes);
        let shown = String::from_utf8_lossy(&bytes);
        match (&ours, &theirs) {
            (Ok(a), Ok(b)) => {
                if let Err(e) = same(a, b, "$") {
                    panic!("case {case}: {shown:?}\n{e}");
                }
                accepted += 1;
            }
            (Err(_), Err(_)) => refused += 1,
            (Ok(_), Err(e)) => panic!("case {case}: accepted {shown:?}, which serde_json refuses: {e}"),
            (Err(e), Ok(_)) => panic!("case {case}: refused {shown:?}, which serde_json accepts: {e}"),
        }
    }
    // both outcomes must be common, or the mutations test nothing
    assert!(accepted > 400 && refused > 400, "{accepted} accepted, {refused} refused");
}
