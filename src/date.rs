//! Calendar dates: parsing the forms found in documents and queries, and conversion to the
//! index's date type.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// A calendar day (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

impl Date {
    /// A date from its parts, if it exists.
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        ((1..=days).contains(&day) && (1..=9999).contains(&year)).then_some(Date {
            year,
            month: month as u8,
            day: day as u8,
        })
    }

    /// Parses `2023-11-14`, `2023/11/14`, `2023.11.14`, `2023年11月14日`, an ISO timestamp
    /// (`2023-11-14T16:37:42Z`, date part used) and `November 14, 2023` / `Nov 14, 2023`.
    pub fn parse(text: &str) -> Option<Date> {
        let text = text.trim();
        parse_numeric(text).or_else(|| parse_english(text))
    }

    /// Like [`Date::parse`], with an error naming the text.
    pub fn parse_strict(text: &str) -> Result<Date> {
        Date::parse(text).ok_or_else(|| Error::Date(text.to_string()))
    }

    /// Seconds since 1970-01-01T00:00:00Z at the start of the day.
    pub fn unix_seconds(self) -> i64 {
        self.days_since_epoch() * 86_400
    }

    /// The day containing the given Unix time, if it lies in years 1–9999.
    pub fn from_unix_seconds(seconds: i64) -> Option<Date> {
        Date::from_days_since_epoch(seconds.div_euclid(86_400))
    }

    /// Days since 1970-01-01 (negative before): how the index stores a date. A day number
    /// covers years 1–9999, where tantivy's own date type (nanoseconds in an i64) wraps
    /// around outside 1677–2262.
    pub fn days_since_epoch(self) -> i64 {
        days_from_civil(self.year, self.month as u32, self.day as u32)
    }

    /// The date of a day number, if it lies in years 1–9999.
    pub fn from_days_since_epoch(days: i64) -> Option<Date> {
        // Bound first: civil_from_days works in i64 but the year must fit an i32.
        if !(FIRST_DAY..=LAST_DAY).contains(&days) {
            return None;
        }
        let (y, m, d) = civil_from_days(days);
        Date::new(y, m, d)
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(self) -> u32 {
        self.month as u32
    }

    /// The day of the month, 1–31.
    pub fn day(self) -> u32 {
        self.day as u32
    }
}

/// Day numbers of 0001-01-01 and 9999-12-31.
const FIRST_DAY: i64 = -719_162;
const LAST_DAY: i64 = 2_932_896;

impl std::str::FromStr for Date {
    type Err = Error;

    /// Parses like [`Date::parse`].
    fn from_str(text: &str) -> Result<Date> {
        Date::parse_strict(text)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// From the `YYYY-MM-DD` text it serializes to (or any form [`Date::parse`] reads).
impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Date, D::Error> {
        let text = String::deserialize(d)?;
        Date::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a date")))
    }
}

/// `YYYY-MM-DD` with `-`, `/`, `.` or 年月日 separators, optionally followed by a time.
fn parse_numeric(text: &str) -> Option<Date> {
    let (year, rest) = take_digits(text, 4, 4)?;
    let rest = rest.strip_prefix(['-', '/', '.', '年'])?;
    let (month, rest) = take_digits(rest, 1, 2)?;
    let rest = rest.strip_prefix(['-', '/', '.', '月'])?;
    let (day, rest) = take_digits(rest, 1, 2)?;
    // Whatever follows the day must be a time or 日, never more of the date itself.
    let rest_ok = rest.is_empty() || rest.starts_with(['T', ' ', 'Z', '日']);
    rest_ok.then_some(())?;
    Date::new(year as i32, month, day)
}

/// Leading ASCII digits (between `min` and `max` of them) as a number, and the rest.
fn take_digits(text: &str, min: usize, max: usize) -> Option<(u32, &str)> {
    let len = text.bytes().take_while(u8::is_ascii_digit).count();
    if len < min || len > max {
        return None;
    }
    Some((text[..len].parse().ok()?, &text[len..]))
}

/// `November 14, 2023` or `Nov 14 2023`.
fn parse_english(text: &str) -> Option<Date> {
    let mut words = text.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty());
    let month_word = words.next()?.to_ascii_lowercase();
    let month = MONTHS.iter().position(|m| month_word.len() >= 3 && m.starts_with(month_word.trim_end_matches('.')))?;
    let day: u32 = words.next()?.parse().ok()?;
    let year: i32 = words.next()?.parse().ok()?;
    Date::new(year, month as u32 + 1, day)
}

// Howard Hinnant's days-from-civil algorithm.
fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y } as i64;
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_documents_use() {
        let d = Date::new(2023, 11, 14).unwrap();
        for text in [
            "2023-11-14",
            "2023/11/14",
            "2023.11.14",
            "2023年11月14日",
            "2023-11-14T16:37:42Z",
            "November 14, 2023",
            "Nov 14, 2023",
            "  november 14 2023 ",
            "2023-11-14 16:37",
        ] {
            assert_eq!(Date::parse(text), Some(d), "{text}");
        }
    }

    #[test]
    fn rejects_non_dates() {
        for text in [
            "",
            "2023",
            "2023-13-01",
            "2023-02-30",
            "14/11/2023",
            "Novemberish 14, 2023",
            "2023-11-145",
            "20231114",
            "2023-11",
        ] {
            assert_eq!(Date::parse(text), None, "{text}");
        }
        assert!(Date::parse_strict("soon").unwrap_err().to_string().contains("soon"));
    }

    #[test]
    fn single_digit_days_parse() {
        assert_eq!(Date::parse("2023-12-2T17:45:00Z"), Date::new(2023, 12, 2));
        assert_eq!(Date::parse("November 2, 2023"), Date::new(2023, 11, 2));
        assert_eq!(Date::parse("2023-11-02T14:05:00Z"), Date::new(2023, 11, 2));
    }

    #[test]
    fn unix_seconds_round_trip() {
        let d = Date::new(2023, 11, 14).unwrap();
        assert_eq!(d.unix_seconds(), 1_699_920_000);
        assert_eq!(Date::from_unix_seconds(d.unix_seconds() + 3600), Some(d));
        let leap = Date::new(2024, 2, 29).unwrap();
        assert_eq!(Date::from_unix_seconds(leap.unix_seconds()), Some(leap));
        assert_eq!(Date::new(1970, 1, 1).unwrap().unix_seconds(), 0);
    }

    #[test]
    fn every_year_from_1_to_9999_round_trips_through_day_numbers() {
        let first = Date::new(1, 1, 1).unwrap();
        let last = Date::new(9999, 12, 31).unwrap();
        assert_eq!(first.days_since_epoch(), FIRST_DAY);
        assert_eq!(last.days_since_epoch(), LAST_DAY);
        for year in (1..=9999).step_by(7).chain([1, 1677, 1678, 2262, 2263, 9999]) {
            for (month, day) in [(1, 1), (2, 28), (12, 31)] {
                let date = Date::new(year, month, day).unwrap();
                assert_eq!(Date::from_days_since_epoch(date.days_since_epoch()), Some(date), "{date}");
            }
        }
        assert_eq!(Date::from_days_since_epoch(FIRST_DAY - 1), None);
        assert_eq!(Date::from_days_since_epoch(LAST_DAY + 1), None);
        assert_eq!(Date::from_days_since_epoch(i64::MAX), None);
        assert_eq!(Date::parse("0001-01-01").map(|d| d.to_string()).as_deref(), Some("0001-01-01"));
        assert_eq!("9999-12-31".parse::<Date>().unwrap(), last);
        assert_eq!((last.year(), last.month(), last.day()), (9999, 12, 31));
        assert!("10000-01-01".parse::<Date>().is_err());
    }
}
