//! Numbers as people read them in messages and notices, without the float-formatting machinery of
//! `{}` (about 20 KB of wasm): [`float_text`] for an f32, [`thousands`] for a count, [`bytes`] for a
//! size.

/// `x` for a message: `NaN`, `inf`, `-inf`, an integer as `-1`, anything else to 7 significant digits as `1.5e-5`.
pub fn float_text(x: f32) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    let magnitude = f64::from(x).abs();
    if magnitude.is_infinite() {
        return format!("{sign}inf");
    }
    if magnitude.fract() == 0.0 && magnitude < 1e15 {
        return format!("{sign}{}", magnitude as u64);
    }
    // scale into [1, 10) by powers of ten (exact enough for 7 digits), then round
    let (mut m, mut exponent) = (magnitude, 0i32);
    while m >= 10.0 {
        m /= 10.0;
        exponent += 1;
    }
    while m < 1.0 {
        m *= 10.0;
        exponent -= 1;
    }
    let mut digits = (m * 1e6).round() as u64;
    if digits >= 10_000_000 {
        digits /= 10;
        exponent += 1;
    }
    while digits.is_multiple_of(10) && digits >= 10 {
        digits /= 10;
    }
    let text = digits.to_string();
    let (first, rest) = text.split_at(1);
    let point = if rest.is_empty() { "" } else { "." };
    format!("{sign}{first}{point}{rest}e{exponent}")
}

/// `1234567` → `"1,234,567"`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Bytes in binary units with one decimal: `"2.4 GB"`, `"32 MB"`, `"512 bytes"`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KB", "MB", "GB", "TB", "PB", "EB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let (mut scaled, mut unit) = (n, 0usize);
    while scaled >= 1024 * 1024 && unit + 1 < UNITS.len() {
        scaled /= 1024;
        unit += 1;
    }
    // scaled is in [1024, 1024²): round scaled / 1024 to one decimal
    let tenths = (scaled * 10 + 512) / 1024;
    match tenths % 10 {
        0 => format!("{} {}", tenths / 10, UNITS[unit]),
        r => format!("{}.{r} {}", tenths / 10, UNITS[unit]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_text_reads_like_the_number() {
        for (x, text) in [
            (-1.0f32, "-1"),
            (0.0, "0"),
            (-0.0, "-0"),
            (16_777_216.0, "16777216"),
            (1e-5, "1e-5"),
            (1.5e-7, "1.5e-7"),
            (0.1, "1e-1"),
            (-123.456, "-1.23456e2"),
            (2.5, "2.5e0"),
            (f32::MAX, "3.402823e38"),
            (f32::MIN_POSITIVE, "1.175494e-38"),
            (f32::from_bits(1), "1.401298e-45"),
            (9.999_999, "9.999999e0"),
            (f32::NAN, "NaN"),
            (f32::INFINITY, "inf"),
            (f32::NEG_INFINITY, "-inf"),
        ] {
            assert_eq!(float_text(x), text, "{x:e}");
        }
    }
}
