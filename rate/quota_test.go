package rate

import (
	"strings"
	"testing"
	"time"
)

func TestQuotaValidate(t *testing.T) {
	tests := []struct {
		name    string
		q       Quota
		wantErr string
	}{
		{name: "off", q: Quota{}},
		{name: "all set", q: Quota{Daily: 1000, Monthly: 20000, MonthlyBytes: 1 << 30}},
		{name: "at the bound", q: Quota{MonthlyBytes: MaxQuota}},
		{name: "negative daily", q: Quota{Daily: -1}, wantErr: "daily quota -1"},
		{name: "monthly over the bound", q: Quota{Monthly: MaxQuota + 1}, wantErr: "monthly quota"},
		{name: "bytes over the bound", q: Quota{MonthlyBytes: MaxQuota + 1}, wantErr: "monthly bytes quota"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.q.Validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Validate(%+v) = %v, want %q", tt.q, err, tt.wantErr)
			}
		})
	}
	if !(Quota{}).Off() || (Quota{Monthly: 1}).Off() {
		t.Error("Off: only the zero Quota is off")
	}
}

func TestCalendarWindows(t *testing.T) {
	tests := []struct {
		at                             string
		day, nextDay, month, nextMonth string
	}{
		{"2026-12-02T01:02:03Z", "2026-12-02", "2026-12-03", "2026-12-01", "2027-01-01"},
		{"2026-12-31T23:59:59.999Z", "2026-12-31", "2027-01-01", "2026-12-01", "2027-01-01"},
		{"2027-01-01T00:00:00Z", "2027-01-01", "2027-01-02", "2027-01-01", "2027-02-01"},
		{"2028-02-29T12:00:00Z", "2028-02-29", "2028-03-01", "2028-02-01", "2028-03-01"},
		// Another zone: the windows are UTC's all the same.
		{"2026-12-02T23:30:00-05:00", "2026-12-03", "2026-12-04", "2026-12-01", "2027-01-01"},
	}
	for _, tt := range tests {
		t.Run(tt.at, func(t *testing.T) {
			at, err := time.Parse(time.RFC3339Nano, tt.at)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name string
				got  time.Time
				want string
			}{{"DayStart", DayStart(at), tt.day}, {"NextDay", NextDay(at), tt.nextDay},
				{"MonthStart", MonthStart(at), tt.month}, {"NextMonth", NextMonth(at), tt.nextMonth}} {
				if c.got.Location() != time.UTC || c.got.Format(time.DateOnly) != c.want || c.got.Format("15:04:05.000") != "00:00:00.000" {
					t.Errorf("%s = %v, want %s 00:00 UTC", c.name, c.got, c.want)
				}
			}
		})
	}
}
