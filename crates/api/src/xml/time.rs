//! ISO 8601 date-times as CloudFront and botocore write them (`2019-11-22T00:55:15.705Z`, with
//! or without fractional seconds, `Z` or a `±HH:MM` offset), to milliseconds since the epoch.

/// Milliseconds since 1970-01-01T00:00:00Z, or `None` when `text` is not such a date-time (or
/// is before the epoch).
pub(crate) fn parse_iso8601(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = digits(&b[0..4])?;
    let (month, day) = (digits(&b[5..7])?, digits(&b[8..10])?);
    let (hour, minute, second) = (digits(&b[11..13])?, digits(&b[14..16])?, digits(&b[17..19])?);
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &b[19..];
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix(b".") {
        let n = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        // Milliseconds: the first three digits, padded; finer digits are dropped.
        let mut ms = [b'0'; 3];
        for (d, c) in ms.iter_mut().zip(&fraction[..n]) {
            *d = *c;
        }
        millis = digits(&ms)?;
        rest = &fraction[n..];
    }
    let offset_minutes: i64 = match rest {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] | [sign @ (b'+' | b'-'), h1, h2, m1, m2] => {
            let (h, m) = (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?);
            if h > 23 || m > 59 {
                return None;
            }
            let minutes = (h * 60 + m) as i64;
            if *sign == b'-' { -minutes } else { minutes }
        }
        _ => return None,
    };
    let days = days_from_civil(year as i64, month, day);
    let seconds = days * 86_400 + (hour * 3600 + minute * 60 + second) as i64 - offset_minutes * 60;
    let ms = seconds.checked_mul(1000)?.checked_add(millis as i64)?;
    u64::try_from(ms).ok()
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`,
/// http://howardhinnant.github.io/date_algorithms.html), the inverse of what
/// `sf_dist::Timestamp::to_iso8601` uses.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use sf_dist::Timestamp;

    #[test]
    fn reads_what_cloudfront_writes_and_its_variants() {
        assert_eq!(parse_iso8601("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso8601("2019-11-22T00:55:15.705Z"), Some(1_574_384_115_705));
        assert_eq!(parse_iso8601("2019-11-22T00:55:15Z"), Some(1_574_384_115_000));
        assert_eq!(parse_iso8601("2019-11-22T00:55:15.7Z"), Some(1_574_384_115_700));
        assert_eq!(parse_iso8601("2019-11-22T00:55:15.705123Z"), Some(1_574_384_115_705));
        assert_eq!(parse_iso8601("2019-11-22T01:55:15.705+01:00"), Some(1_574_384_115_705));
        assert_eq!(parse_iso8601("2019-11-21T23:55:15.705-0100"), Some(1_574_384_115_705));
        for ms in [0, 951_782_400_000, 1_574_384_115_705, 4_102_444_799_999] {
            assert_eq!(parse_iso8601(&Timestamp(ms).to_iso8601()), Some(ms));
        }
    }

    #[test]
    fn refuses_what_is_not_a_date_time() {
        for bad in [
            "",
            "2019-11-22",
            "2019-11-22T00:55:15",
            "2019-13-22T00:55:15Z",
            "2019-02-29T00:55:15Z",
            "2019-11-22T24:00:00Z",
            "2019-11-22T00:55:15.Z",
            "2019-11-22T00:55:15+25:00",
            "1969-12-31T23:59:59Z",
            "２０19-11-22T00:55:15Z",
            "1574384115",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }
}
