//! HTTP dates (RFC 9110 §5.6.7): IMF-fixdate out, all three formats in, and
//! the access log's timestamp. Time is passed in as seconds since the Unix
//! epoch; nothing here reads a clock or a time zone database.
//!
//! Calendar arithmetic uses Howard Hinnant's `days_from_civil` and
//! `civil_from_days` (proleptic Gregorian, exact for every year used here).

/// Format `unix_secs` as an IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
///
/// IMF-fixdate has a four-digit year, so times after 9999-12-31 23:59:59 are
/// written as that instant rather than producing a malformed date.
pub fn format_http_date(unix_secs: u64) -> [u8; 29] {
    let secs = i64::try_from(unix_secs).map_or(MAX_SECS, |s| s.min(MAX_SECS));
    let (year, month, day, hour, minute, second) = civil_from_secs(secs);
    let weekday = weekday_from_days(secs.div_euclid(SECS_PER_DAY));
    let mut out = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    out[0..3].copy_from_slice(DAY_NAMES[weekday].as_bytes());
    write_2_digits(&mut out[5..7], day);
    out[8..11].copy_from_slice(MONTH_NAMES[(month - 1).clamp(0, 11) as usize].as_bytes());
    write_4_digits(&mut out[12..16], year);
    write_2_digits(&mut out[17..19], hour);
    write_2_digits(&mut out[20..22], minute);
    write_2_digits(&mut out[23..25], second);
    out
}

/// Parse an HTTP date in IMF-fixdate, RFC 850 or asctime form
/// (RFC 9110 §5.6.7), returning seconds since the Unix epoch.
///
/// `value` is the field value with surrounding whitespace already removed.
/// Returns `None` for anything else, for impossible dates (Feb 30, hour 24,
/// second 60: leap seconds are not representable in Unix time) and for
/// dates before 1970. Names are case-sensitive, as the grammar says. The day
/// name must be a real one but is not checked against the date, as in Go's
/// `http.ParseTime`: it carries no information and a mismatch harms no one.
///
/// RFC 850's two-digit year is read without a clock: 00-69 is 2000-2069 and
/// 70-99 is 1970-1999. RFC 9110 asks that a year more than 50 years in the
/// future be taken as past; this fixed window agrees with that until 2020+50
/// and keeps parsing pure. Senders have used IMF-fixdate since 1999.
pub fn parse_http_date(value: &[u8]) -> Option<u64> {
    let fields = match value {
        [_, _, _, b',', b' ', ..] => parse_imf_fixdate(value)?,
        [_, _, _, b' ', ..] => parse_asctime(value)?,
        _ => parse_rfc850(value)?,
    };
    fields.to_unix_secs()
}

/// Format `unix_secs`, shifted by `utc_offset_secs` into local time, as
/// `2025-01-10 14:32:01` for the access log. The caller finds the offset
/// (this module has no time zone database). Years are clamped to 0000-9999
/// so the output always has the same width.
pub fn format_log_time(unix_secs: i64, utc_offset_secs: i32) -> [u8; 19] {
    let secs = unix_secs
        .saturating_add(i64::from(utc_offset_secs))
        .clamp(MIN_SECS, MAX_SECS);
    let (year, month, day, hour, minute, second) = civil_from_secs(secs);
    let mut out = *b"1970-01-01 00:00:00";
    write_4_digits(&mut out[0..4], year);
    write_2_digits(&mut out[5..7], month);
    write_2_digits(&mut out[8..10], day);
    write_2_digits(&mut out[11..13], hour);
    write_2_digits(&mut out[14..16], minute);
    write_2_digits(&mut out[17..19], second);
    out
}

const SECS_PER_DAY: i64 = 86_400;
/// 9999-12-31 23:59:59 UTC, the last instant with a four-digit year.
const MAX_SECS: i64 = 253_402_300_799;
/// 0000-01-01 00:00:00 UTC, the first instant with a four-digit year.
const MIN_SECS: i64 = -62_167_219_200;

const DAY_NAMES: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const LONG_DAY_NAMES: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A broken-down UTC time as read from a date string, not yet validated.
struct DateFields {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
}

impl DateFields {
    fn to_unix_secs(&self) -> Option<u64> {
        let valid = (1..=12).contains(&self.month)
            && (1..=days_in_month(self.year, self.month)).contains(&self.day)
            && (0..=23).contains(&self.hour)
            && (0..=59).contains(&self.minute)
            && (0..=59).contains(&self.second);
        if !valid {
            return None;
        }
        let days = days_from_civil(self.year, self.month, self.day);
        let secs = days * SECS_PER_DAY + self.hour * 3600 + self.minute * 60 + self.second;
        u64::try_from(secs).ok()
    }
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`
fn parse_imf_fixdate(value: &[u8]) -> Option<DateFields> {
    let [d0, d1, d2, b',', b' ', day0, day1, b' ', m0, m1, m2, b' ', y0, y1, y2, y3, b' ', time @ .., b' ', b'G', b'M', b'T'] =
        value
    else {
        return None;
    };
    day_name_index(&[*d0, *d1, *d2], &DAY_NAMES)?;
    let (hour, minute, second) = parse_time(time)?;
    Some(DateFields {
        year: parse_digits(&[*y0, *y1, *y2, *y3])?,
        month: month_number(&[*m0, *m1, *m2])?,
        day: parse_digits(&[*day0, *day1])?,
        hour,
        minute,
        second,
    })
}

/// `Sunday, 06-Nov-94 08:49:37 GMT`
fn parse_rfc850(value: &[u8]) -> Option<DateFields> {
    let comma = memchr::memchr(b',', value)?;
    let (name, rest) = value.split_at(comma);
    day_name_index(name, &LONG_DAY_NAMES)?;
    let [b',', b' ', day0, day1, b'-', m0, m1, m2, b'-', y0, y1, b' ', time @ .., b' ', b'G', b'M', b'T'] =
        rest
    else {
        return None;
    };
    let two_digit_year = parse_digits(&[*y0, *y1])?;
    let year = if two_digit_year < 70 {
        2000 + two_digit_year
    } else {
        1900 + two_digit_year
    };
    let (hour, minute, second) = parse_time(time)?;
    Some(DateFields {
        year,
        month: month_number(&[*m0, *m1, *m2])?,
        day: parse_digits(&[*day0, *day1])?,
        hour,
        minute,
        second,
    })
}

/// `Sun Nov  6 08:49:37 1994`: the day is two digits or SP and one digit.
fn parse_asctime(value: &[u8]) -> Option<DateFields> {
    let [d0, d1, d2, b' ', m0, m1, m2, b' ', day0, day1, b' ', time @ .., b' ', y0, y1, y2, y3] =
        value
    else {
        return None;
    };
    day_name_index(&[*d0, *d1, *d2], &DAY_NAMES)?;
    let day = match (day0, day1) {
        (b' ', digit) => parse_digits(&[*digit])?,
        (tens, ones) => parse_digits(&[*tens, *ones])?,
    };
    let (hour, minute, second) = parse_time(time)?;
    Some(DateFields {
        year: parse_digits(&[*y0, *y1, *y2, *y3])?,
        month: month_number(&[*m0, *m1, *m2])?,
        day,
        hour,
        minute,
        second,
    })
}

/// `time-of-day = hour ":" minute ":" second`, each two digits.
fn parse_time(time: &[u8]) -> Option<(i64, i64, i64)> {
    let [h0, h1, b':', m0, m1, b':', s0, s1] = time else {
        return None;
    };
    Some((
        parse_digits(&[*h0, *h1])?,
        parse_digits(&[*m0, *m1])?,
        parse_digits(&[*s0, *s1])?,
    ))
}

/// A short run of ASCII digits (at most four here, so no overflow).
fn parse_digits(digits: &[u8]) -> Option<i64> {
    digits.iter().try_fold(0i64, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
    })
}

fn day_name_index(name: &[u8], names: &[&str; 7]) -> Option<usize> {
    names.iter().position(|n| n.as_bytes() == name)
}

fn month_number(name: &[u8]) -> Option<i64> {
    let index = MONTH_NAMES.iter().position(|n| n.as_bytes() == name)?;
    i64::try_from(index).ok().map(|i| i + 1)
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Hinnant).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Year, month, day, hour, minute, second of `secs` (within MIN..=MAX_SECS).
fn civil_from_secs(secs: i64) -> (i64, i64, i64, i64, i64, i64) {
    let (year, month, day) = civil_from_days(secs.div_euclid(SECS_PER_DAY));
    let of_day = secs.rem_euclid(SECS_PER_DAY);
    (
        year,
        month,
        day,
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
    )
}

/// 0 = Sunday; 1970-01-01 was a Thursday.
fn weekday_from_days(days: i64) -> usize {
    // rem_euclid(7) is in 0..7, so the cast cannot truncate.
    (days + 4).rem_euclid(7) as usize
}

fn write_2_digits(out: &mut [u8], value: i64) {
    let value = value.clamp(0, 99) as u8;
    out.copy_from_slice(&[b'0' + value / 10, b'0' + value % 10]);
}

fn write_4_digits(out: &mut [u8], value: i64) {
    let value = value.clamp(0, 9999) as u16;
    out.copy_from_slice(&[
        b'0' + (value / 1000) as u8,
        b'0' + (value / 100 % 10) as u8,
        b'0' + (value / 10 % 10) as u8,
        b'0' + (value % 10) as u8,
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(value: &str) -> Option<u64> {
        parse_http_date(value.as_bytes())
    }

    #[test]
    fn the_three_rfc_9110_examples_parse_to_the_same_instant() {
        // RFC 9110 §5.6.7.
        assert_eq!(parse("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parse("Sunday, 06-Nov-94 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parse("Sun Nov  6 08:49:37 1994"), Some(784_111_777));
        assert_eq!(parse("Sun Nov 06 08:49:37 1994"), Some(784_111_777));
    }

    #[test]
    fn format_is_imf_fixdate() {
        assert_eq!(
            &format_http_date(784_111_777),
            b"Sun, 06 Nov 1994 08:49:37 GMT"
        );
        assert_eq!(&format_http_date(0), b"Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            &format_http_date(951_782_400),
            b"Tue, 29 Feb 2000 00:00:00 GMT"
        );
        assert_eq!(
            &format_http_date(1_736_519_521),
            b"Fri, 10 Jan 2025 14:32:01 GMT"
        );
        // Past year 9999: clamped, still 29 well-formed bytes.
        assert_eq!(
            &format_http_date(u64::MAX),
            b"Fri, 31 Dec 9999 23:59:59 GMT"
        );
    }

    #[test]
    fn leap_years_follow_the_gregorian_rule() {
        assert_eq!(parse("Tue, 29 Feb 2000 00:00:00 GMT"), Some(951_782_400));
        assert_eq!(parse("Thu, 29 Feb 2024 12:00:00 GMT"), Some(1_709_208_000));
        // 2100 is divisible by 100 but not 400: not a leap year.
        assert_eq!(parse("Mon, 29 Feb 2100 00:00:00 GMT"), None);
        assert_eq!(parse("Mon, 01 Mar 2100 00:00:00 GMT"), Some(4_107_542_400));
        assert_eq!(parse("Sun, 29 Feb 2023 00:00:00 GMT"), None);
    }

    #[test]
    fn two_digit_years_use_a_fixed_window() {
        assert_eq!(parse("Thursday, 01-Jan-70 00:00:00 GMT"), Some(0));
        assert_eq!(parse("Friday, 31-Dec-99 23:59:59 GMT"), Some(946_684_799));
        assert_eq!(parse("Saturday, 01-Jan-00 00:00:00 GMT"), Some(946_684_800));
        assert_eq!(
            parse("Sunday, 01-Jan-69 00:00:00 GMT"),
            parse("Tue, 01 Jan 2069 00:00:00 GMT")
        );
    }

    #[test]
    fn invalid_dates_are_none() {
        let invalid = [
            "",
            "Sun, 30 Feb 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:60:00 GMT",
            "Sun, 06 Nov 1994 08:49:60 GMT",
            "Sun, 00 Nov 1994 08:49:37 GMT",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 nov 1994 08:49:37 GMT",
            "Xyz, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT ",
            "Sun, 06 Nov 94 08:49:37 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sun, +6 Nov 1994 08:49:37 GMT",
            "Sun, 31 Dec 1969 23:59:59 GMT",
            "Sun, 06-Nov-94 08:49:37 GMT",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sun Nov  6 08:49:37 94",
            "Sun Nov 6 08:49:37 1994",
            "Sun Nov  6 08:49:37 1994 GMT",
            "Sunday Nov  6 08:49:37 1994",
            ",",
            "Sun,",
        ];
        for value in invalid {
            assert_eq!(parse(value), None, "{value}");
        }
    }

    #[test]
    fn a_wrong_day_name_is_ignored() {
        // Documented choice: the name must exist, not match the date.
        assert_eq!(parse("Mon, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
    }

    #[test]
    fn log_time_applies_the_offset() {
        let t = 1_736_519_521; // 2025-01-10 14:32:01 UTC
        assert_eq!(&format_log_time(t, 0), b"2025-01-10 14:32:01");
        assert_eq!(&format_log_time(t, 3600), b"2025-01-10 15:32:01");
        assert_eq!(&format_log_time(t, -15 * 3600), b"2025-01-09 23:32:01");
        assert_eq!(&format_log_time(t, 5 * 3600 + 1800), b"2025-01-10 20:02:01");
        assert_eq!(&format_log_time(0, -1), b"1969-12-31 23:59:59");
        assert_eq!(&format_log_time(i64::MAX, i32::MAX), b"9999-12-31 23:59:59");
        assert_eq!(&format_log_time(i64::MIN, i32::MIN), b"0000-01-01 00:00:00");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn formatted_dates_parse_back(secs in 0u64..=253_402_300_799) {
            prop_assert_eq!(parse_http_date(&format_http_date(secs)), Some(secs));
        }

        #[test]
        fn all_three_formats_agree(secs in 0u64..=253_402_300_799) {
            // Build the other two forms from the IMF-fixdate fields.
            let imf = format_http_date(secs);
            let text = std::str::from_utf8(&imf).unwrap();
            let (name, day, month, year, time) =
                (&text[0..3], &text[5..7], &text[8..11], &text[12..16], &text[17..25]);
            let asctime = format!("{name} {month} {day} {time} {year}");
            prop_assert_eq!(parse(&asctime), Some(secs));
            if (1970..2070).contains(&year.parse::<u32>().unwrap()) {
                let long = LONG_DAY_NAMES[DAY_NAMES.iter().position(|n| *n == name).unwrap()];
                let rfc850 = format!("{long}, {day}-{month}-{} {time} GMT", &year[2..]);
                prop_assert_eq!(parse(&rfc850), Some(secs));
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(value in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = parse_http_date(&value);
        }
    }
}
