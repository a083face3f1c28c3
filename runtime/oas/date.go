package oas

import (
	"strconv"
	"time"
)

// Date is a calendar date without a time of day or a time zone: the value of
// a string property with format "date". Its text and JSON form is
// "2006-01-02".
//
// The zero Date (all fields zero) is not a valid date; IsZero reports it so
// that fields tagged omitzero leave it out.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// NewDate returns the date with the given fields, unnormalised: use
// [Date.IsValid] to check it. Use DateOf(d.Time(time.UTC).AddDate(...)) for
// arithmetic.
func NewDate(year int, month time.Month, day int) Date {
	return Date{Year: year, Month: month, Day: day}
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate parses s as a date. It accepts the RFC 3339 full-date form
// "2006-01-02" and, because servers often send a timestamp where the schema
// promises a date, an RFC 3339 date-time, whose calendar date is taken as
// written (no time zone conversion). The year must be in [0, 9999].
func ParseDate(s string) (Date, error) {
	d, ok := parseFullDate(s)
	if !ok && len(s) > 10 && s[10] == 'T' {
		if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
			d, ok = parseFullDate(s[:10])
		}
	}
	if !ok {
		return Date{}, &dateError{input: s}
	}
	return d, nil
}

func parseFullDate(s string) (Date, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, false
	}
	y, ok1 := atoiDigits(s[0:4])
	m, ok2 := atoiDigits(s[5:7])
	d, ok3 := atoiDigits(s[8:10])
	date := Date{Year: y, Month: time.Month(m), Day: d}
	if !ok1 || !ok2 || !ok3 || !date.IsValid() {
		return Date{}, false
	}
	return date, true
}

func atoiDigits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// dateError reports a string that is not a date.
type dateError struct{ input string }

// Error describes the rejected input.
func (e *dateError) Error() string {
	return "oas: invalid date " + quoteInput(e.input) + `: want "YYYY-MM-DD"`
}

// quoteInput quotes s for an error message, truncating long input.
func quoteInput(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}

// IsValid reports whether d names a real calendar day with a year in
// [0, 9999], the range the text form can represent.
func (d Date) IsValid() bool {
	if d.Year < 0 || d.Year > 9999 || d.Month < time.January || d.Month > time.December || d.Day < 1 {
		return false
	}
	return d.Day <= daysIn(d.Month, d.Year)
}

func daysIn(m time.Month, year int) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// String returns d as "2006-01-02". Out-of-range fields are printed as they
// are, so an invalid date still prints something recognisable.
func (d Date) String() string {
	if !d.IsValid() {
		return strconv.Itoa(d.Year) + "-" + strconv.Itoa(int(d.Month)) + "-" + strconv.Itoa(d.Day)
	}
	return string(d.appendText(make([]byte, 0, 10)))
}

func (d Date) appendText(b []byte) []byte {
	y := d.Year
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = append(b, byte('0'+int(d.Month)/10), byte('0'+int(d.Month)%10), '-')
	return append(b, byte('0'+d.Day/10), byte('0'+d.Day%10))
}

// errInvalidDate is returned when encoding a Date that is not valid.
const errInvalidDate = scanError("oas: cannot encode an invalid date (year must be 0-9999 and the day must exist)")

// AppendText appends the "2006-01-02" form of d to b. It fails for a date
// that is not valid, including the zero Date.
func (d Date) AppendText(b []byte) ([]byte, error) {
	if !d.IsValid() {
		return b, errInvalidDate
	}
	return d.appendText(b), nil
}

// MarshalText returns the "2006-01-02" form of d. It fails for a date that
// is not valid, including the zero Date (use omitzero to leave unset dates
// out of JSON).
func (d Date) MarshalText() ([]byte, error) {
	return d.AppendText(make([]byte, 0, 10))
}

// UnmarshalText parses b as [ParseDate] does.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Time returns midnight at the start of d in loc (UTC when loc is nil).
func (d Date) Time(loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// Compare returns -1 when d is before e, +1 when it is after, and 0 when
// they are the same date.
func (d Date) Compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return cmpInt(d.Year, e.Year)
	case d.Month != e.Month:
		return cmpInt(int(d.Month), int(e.Month))
	}
	return cmpInt(d.Day, e.Day)
}

func cmpInt(a, b int) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }
