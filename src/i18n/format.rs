//! Money, numbers, dates and language names written the way each language writes them, from
//! the CLDR data ICU4X compiles in (no hand-written patterns): `$25.00` / `25,00 US$`,
//! `1,234` / `1234`, `Dec 4, 2026` / `4 dic 2026`, `Spanish` / `español`.
//!
//! Pure functions of a language tag and a value; the templates' `money`, `number`, `date` and
//! `language` filters call them with the render's `lang` (see [`crate::templates`]).

use chrono::NaiveDate;
use fixed_decimal::Decimal;
use icu_calendar::{Date, Gregorian};
use icu_datetime::fieldsets::YMD;
use icu_datetime::FixedCalendarDateTimeFormatter;
use icu_decimal::DecimalFormatter;
use icu_experimental::dimension::currency::formatter::CurrencyFormatter;
use icu_experimental::dimension::currency::CurrencyType;
use icu_experimental::dimension::provider::currency::fractions::CurrencyFractionsV1;
use icu_experimental::displaynames::multi::LanguageDisplayNames;
use icu_locale_core::subtags::Language;
use icu_locale_core::Locale;
use icu_provider::prelude::*;

/// What cannot be formatted: a tag or currency code that is not one, or data the build lacks.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FormatError {
    #[error("not a language tag: {0:?}")]
    Lang(String),
    #[error("not a currency code: {0:?}")]
    Currency(String),
    #[error("not a calendar date: {0}")]
    Date(NaiveDate),
    #[error("locale data for {0:?}: {1}")]
    Data(String, String),
}

fn locale(lang: &str) -> Result<Locale, FormatError> {
    Locale::try_from_str(lang).map_err(|_| FormatError::Lang(lang.to_string()))
}

fn data(lang: &str, e: impl std::fmt::Display) -> FormatError {
    FormatError::Data(lang.to_string(), e.to_string())
}

/// The digits after the decimal point of `currency` (CLDR's currency data: 2 for USD, 0 for
/// JPY and CLP, 3 for KWD).
pub fn currency_digits(currency: &str) -> Result<u8, FormatError> {
    let code = currency_type(currency)?;
    let fractions: DataResponse<CurrencyFractionsV1> = DataProvider::<CurrencyFractionsV1>::load(
        &icu_experimental::provider::Baked,
        Default::default(),
    )
    .map_err(|e| data(currency, e))?;
    Ok(fractions.payload.get().resolve(code).digits)
}

fn currency_type(currency: &str) -> Result<CurrencyType, FormatError> {
    let currency = currency.trim();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(FormatError::Currency(currency.to_string()));
    }
    CurrencyType::try_from_str(&currency.to_ascii_lowercase())
        .map_err(|_| FormatError::Currency(currency.to_string()))
}

/// An amount in minor units (cents) of `currency`, as `lang` writes money: en `$25.00`,
/// es `25,00 US$`.
pub fn money(lang: &str, amount_minor: i64, currency: &str) -> Result<String, FormatError> {
    let code = currency_type(currency)?;
    let digits = currency_digits(currency)?;
    let mut value = Decimal::from(amount_minor);
    value.multiply_pow10(-i16::from(digits));
    let loc = locale(lang)?;
    let formatter = CurrencyFormatter::try_new_symbol((&loc).into(), code, Default::default())
        .map_err(|e| data(lang, e))?;
    let text = formatter.format_fixed_decimal(&value).to_string();
    Ok(text)
}

/// A whole number with the language's grouping: en `12,345`, es `12.345`.
pub fn number(lang: &str, n: i64) -> Result<String, FormatError> {
    let loc = locale(lang)?;
    let formatter =
        DecimalFormatter::try_new((&loc).into(), Default::default()).map_err(|e| data(lang, e))?;
    Ok(formatter.format(&Decimal::from(n)).to_string())
}

/// A calendar date in the language's medium style: en `Dec 4, 2026`, es `4 dic 2026`.
pub fn date(lang: &str, day: NaiveDate) -> Result<String, FormatError> {
    use chrono::Datelike;
    let loc = locale(lang)?;
    let month = u8::try_from(day.month()).map_err(|_| FormatError::Date(day))?;
    let dom = u8::try_from(day.day()).map_err(|_| FormatError::Date(day))?;
    let input =
        Date::try_new_gregorian(day.year(), month, dom).map_err(|_| FormatError::Date(day))?;
    let formatter =
        FixedCalendarDateTimeFormatter::<Gregorian, _>::try_new((&loc).into(), YMD::medium())
            .map_err(|e| data(lang, e))?;
    Ok(formatter.format(&input).to_string())
}

/// The name of language `tag` in language `lang`: (`en`, `es`) → `Spanish`, (`es`, `es`) →
/// `español`. A tag CLDR does not name comes back as it is.
pub fn language_name(lang: &str, tag: &str) -> Result<String, FormatError> {
    let loc = locale(lang)?;
    let target = Locale::try_from_str(tag).map_err(|_| FormatError::Lang(tag.to_string()))?;
    let language: Language = target.id.language;
    let names = LanguageDisplayNames::try_new((&loc).into(), Default::default())
        .map_err(|e| data(lang, e))?;
    Ok(names
        .of(language)
        .map_or_else(|| tag.to_string(), str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn money_in_english_and_spanish() {
        assert_eq!(money("en", 2500, "USD").expect("en"), "$25.00");
        assert_eq!(money("en", 123_456, "USD").expect("en"), "$1,234.56");
        let es = money("es", 2500, "USD").expect("es");
        // CLDR's Spanish: the amount first, a decimal comma, a (no-break) space, `US$`.
        assert_eq!(es.replace('\u{a0}', " "), "25,00 US$");
        assert_eq!(
            money("es", 123_456, "EUR")
                .expect("es")
                .replace('\u{a0}', " "),
            "1234,56 €"
        );
    }

    #[test]
    fn money_uses_the_currency_digits() {
        assert_eq!(currency_digits("USD").expect("usd"), 2);
        assert_eq!(currency_digits("jpy").expect("jpy"), 0);
        assert_eq!(money("en", 2500, "JPY").expect("jpy"), "¥2,500");
        assert!(matches!(
            money("en", 1, "US"),
            Err(FormatError::Currency(_))
        ));
        assert!(matches!(
            money("en", 1, "U$D"),
            Err(FormatError::Currency(_))
        ));
    }

    #[test]
    fn numbers_are_grouped_by_the_language() {
        assert_eq!(number("en", 12_345).expect("en"), "12,345");
        assert_eq!(number("es", 12_345).expect("es"), "12.345");
        assert_eq!(number("en", -7).expect("en"), "-7");
    }

    #[test]
    fn dates_in_the_medium_style() {
        assert_eq!(date("en", day(2026, 12, 4)).expect("en"), "Dec 4, 2026");
        assert_eq!(date("es", day(2026, 12, 4)).expect("es"), "4 dic 2026");
    }

    #[test]
    fn language_names_in_each_language() {
        assert_eq!(language_name("en", "es").expect("en"), "Spanish");
        assert_eq!(language_name("en", "en").expect("en"), "English");
        assert_eq!(language_name("es", "es").expect("es"), "español");
        assert_eq!(language_name("es", "en").expect("es"), "inglés");
        assert!(matches!(
            language_name("en", "!!"),
            Err(FormatError::Lang(_))
        ));
    }

    #[test]
    fn an_unknown_language_tag_is_an_error() {
        assert!(matches!(
            money("not a tag", 1, "USD"),
            Err(FormatError::Lang(_))
        ));
    }
}
