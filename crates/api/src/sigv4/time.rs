//! The time a request was signed: `X-Amz-Date` (`20261207T120000Z`), or when it is absent the
//! `Date` header, which botocore signs instead when the request already has one (botocore
//! auth.py, `SigV4Auth._set_necessary_date_headers`). botocore writes that one with Python's
//! `email.utils.formatdate`: RFC 1123 but with the zone `-0000` (RFC 2822 §3.3) for `GMT`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use sf_dist::Timestamp;

use super::refusal::incomplete_signature;
use crate::ApiError;

pub(crate) struct RequestTime {
    /// `yyyymmddThhmmssZ`, as in the string to sign.
    pub basic: String,
    pub at: SystemTime,
}

impl RequestTime {
    /// `yyyymmdd`, which the credential scope must repeat.
    pub fn date(&self) -> &str {
        &self.basic[..8]
    }
}

pub(crate) fn request_time(headers: &HeaderMap) -> Result<RequestTime, ApiError> {
    if let Some(value) = single_header(headers, "x-amz-date")? {
        let at = parse_basic(value).ok_or_else(|| {
            incomplete_signature(format_args!("X-Amz-Date {value:?} is not of the form yyyymmddThhmmssZ"))
        })?;
        return Ok(RequestTime { basic: value.to_owned(), at });
    }
    if let Some(value) = single_header(headers, "date")? {
        let at = parse_date_header(value)
            .ok_or_else(|| incomplete_signature(format_args!("Date {value:?} is not an HTTP date (RFC 1123)")))?;
        return Ok(RequestTime { basic: format_basic(at), at });
    }
    Err(incomplete_signature("the request has neither an X-Amz-Date nor a Date header"))
}

fn single_header<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, ApiError> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(incomplete_signature(format_args!("the request has more than one {name} header")));
    }
    let value = value.to_str().map_err(|_| incomplete_signature(format_args!("the {name} header is not ASCII")))?;
    Ok(Some(value))
}

/// RFC 1123 with `GMT`, or with `-0000`/`+0000` as botocore writes it.
fn parse_date_header(value: &str) -> Option<SystemTime> {
    let in_gmt = match value.strip_suffix(" -0000").or_else(|| value.strip_suffix(" +0000")) {
        Some(rest) => format!("{rest} GMT"),
        None => value.to_owned(),
    };
    httpdate::parse_http_date(&in_gmt).ok()
}

/// `yyyymmddThhmmssZ` to a time, refusing dates that do not exist (20260230T…).
fn parse_basic(value: &str) -> Option<SystemTime> {
    let b = value.as_bytes();
    let shape_ok =
        b.len() == 16 && b[8] == b'T' && b[15] == b'Z' && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit);
    if !shape_ok {
        return None;
    }
    let number = |range: std::ops::Range<usize>| value[range].parse::<u64>().ok();
    let (year, month, day) = (number(0..4)?, number(4..6)?, number(6..8)?);
    let (hour, minute, second) = (number(9..11)?, number(11..13)?, number(13..15)?);
    if year < 1970 || !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let at = UNIX_EPOCH + Duration::from_secs(days * 86_400 + hour * 3600 + minute * 60 + second);
    // A day past the month's end (0230) comes back as another date.
    (format_basic(at) == value).then_some(at)
}

fn format_basic(at: SystemTime) -> String {
    let millis = at.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
    // `2026-12-07T12:00:00.000Z` → `20261207T120000Z`.
    let iso = Timestamp(u64::try_from(millis).unwrap_or(u64::MAX)).to_iso8601();
    iso[..19].chars().filter(|c| *c != '-' && *c != ':').chain(['Z']).collect()
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar, year ≥ 1970 (Howard
/// Hinnant's `days_from_civil`, http://howardhinnant.github.io/date_algorithms.html).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(name, value)| (name.parse().unwrap(), value.parse().unwrap())).collect()
    }

    #[test]
    fn x_amz_date_then_date() {
        let t = request_time(&headers(&[("x-amz-date", "20150830T123600Z")])).unwrap();
        assert_eq!((t.basic.as_str(), t.date()), ("20150830T123600Z", "20150830"));
        assert_eq!(t.at, UNIX_EPOCH + Duration::from_secs(1_440_938_160));
        let t = request_time(&headers(&[("date", "Sun, 30 Aug 2015 12:36:00 GMT")])).unwrap();
        assert_eq!((t.basic.as_str(), t.at), ("20150830T123600Z", UNIX_EPOCH + Duration::from_secs(1_440_938_160)));
        let botocore = request_time(&headers(&[("date", "Sun, 30 Aug 2015 12:36:00 -0000")])).unwrap();
        assert_eq!(botocore.basic, "20150830T123600Z");
        let both = headers(&[("date", "Mon, 07 Dec 2026 00:00:00 GMT"), ("x-amz-date", "20150830T123600Z")]);
        assert_eq!(request_time(&both).unwrap().basic, "20150830T123600Z");
        let leap = request_time(&headers(&[("x-amz-date", "20240229T000000Z")])).unwrap();
        assert_eq!(leap.at, UNIX_EPOCH + Duration::from_secs(1_709_164_800));
    }

    #[test]
    fn refuses_missing_malformed_and_impossible_times() {
        for bad in [
            &[][..],
            &[("x-amz-date", "2015-08-30T12:36:00Z")],
            &[("x-amz-date", "20150830T123600")],
            &[("x-amz-date", "20150230T123600Z")],
            &[("x-amz-date", "20151301T000000Z")],
            &[("x-amz-date", "20150830T243600Z")],
            &[("x-amz-date", "20150830T123600Z"), ("x-amz-date", "20150830T123600Z")],
            &[("date", "yesterday")],
            &[("date", "Sun, 30 Aug 2015 12:36:00 +0200")],
        ] {
            let err = request_time(&headers(bad)).err().unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert_eq!(err.code, "IncompleteSignature", "{bad:?}");
        }
    }
}
