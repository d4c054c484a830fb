/// Parses RFC 3339 date-times (`2025-11-23T12:30:00.5+01:00`) into epoch milliseconds.
///
/// Accepts `T`/`t` between date and time, `Z`/`z` or a `±hh:mm` offset, and a fraction
/// of any length (truncated to milliseconds). Validates month, day (with leap years),
/// hour, minute, second (60 is accepted for a leap second and counts as the next second's
/// start) and offset ranges.
enum RFC3339 {
    /// The epoch milliseconds of `text`, or nil when it is not a valid RFC 3339 date-time.
    static func epochMilliseconds(_ text: UnsafeRawBufferPointer) -> Int64? {
        var index = 0
        func number(_ width: Int) -> Int? {
            guard index + width <= text.count else { return nil }
            var value = 0
            for offset in index..<index + width {
                let digit = text[offset] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                value = value * 10 + Int(digit)
            }
            index += width
            return value
        }
        func literal(_ accepted: UInt8...) -> Bool {
            guard index < text.count, accepted.contains(text[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), literal(UInt8(ascii: "-")),
              let month = number(2), literal(UInt8(ascii: "-")),
              let day = number(2), literal(UInt8(ascii: "T"), UInt8(ascii: "t")),
              let hour = number(2), literal(UInt8(ascii: ":")),
              let minute = number(2), literal(UInt8(ascii: ":")),
              let second = number(2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(month, year: year),
              hour < 24, minute < 60, second <= 60
        else { return nil }
        var milliseconds = 0
        if literal(UInt8(ascii: ".")) {
            var digits = 0
            while index < text.count, text[index] &- UInt8(ascii: "0") < 10 {
                if digits < 3 { milliseconds = milliseconds * 10 + Int(text[index] - UInt8(ascii: "0")) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 3) { milliseconds *= 10 }
        }
        var offsetSeconds = 0
        if !literal(UInt8(ascii: "Z"), UInt8(ascii: "z")) {
            guard index < text.count else { return nil }
            let sign = text[index]
            guard sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else { return nil }
            index += 1
            guard let offsetHour = number(2), literal(UInt8(ascii: ":")), let offsetMinute = number(2),
                  offsetHour < 24, offsetMinute < 60
            else { return nil }
            offsetSeconds = (offsetHour * 3600 + offsetMinute * 60) * (sign == UInt8(ascii: "-") ? -1 : 1)
        }
        guard index == text.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Int64(seconds) * 1000 + Int64(milliseconds)
    }

    private static func daysInMonth(_ month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
