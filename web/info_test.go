package web

import (
	"slices"
	"testing"
)

func TestFormatLimit(t *testing.T) {
	tests := []struct{ in, want string }{
		{"600/1m", "600 requests per minute"},
		{"1/1s", "1 request per second"},
		{"12000/1h", "12,000 requests per hour"},
		{"1000000/24h", "1,000,000 requests per day"},
		{"10/30s", "10 requests per 30s"},
		{" 5 / 1m ", "5 requests per minute"},
		{"off", "off"},
		{"OFF", "off"},
		{"", "off"},
		{"lots", "lots"},
		{"-1/1m", "-1/1m"},
		{"5/fortnight", "5 requests per fortnight"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := formatLimit(tt.in); got != tt.want {
				t.Errorf("formatLimit(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormatSizeLimit(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{-1, "no limit"},
		{0, "no limit"},
		{1, "up to 1 byte"},
		{512, "up to 512 bytes"},
		{1024, "up to 1 KiB"},
		{1536, "up to 1.5 KiB"},
		{1<<20 - 1, "up to 1 MiB"},
		{10 << 20, "up to 10 MiB"},
		{50 << 20, "up to 50 MiB"},
		{5 << 30, "up to 5 GiB"},
		{1<<63 - 1, "up to 8 EiB"},
	}
	for _, tt := range tests {
		if got := formatSizeLimit(tt.in); got != tt.want {
			t.Errorf("formatSizeLimit(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormatRedirects(t *testing.T) {
	for in, want := range map[int]string{-1: "not followed", 0: "not followed", 1: "up to 1 followed", 10: "up to 10 followed"} {
		if got := formatRedirects(in); got != want {
			t.Errorf("formatRedirects(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestExampleHeaders(t *testing.T) {
	tests := []struct {
		name        string
		required    []string
		origins     []string
		curl, fetch header
	}{
		{"none required", nil, nil, header{}, header{}},
		{"default", []string{"Origin", "X-Requested-With"}, nil, header{"X-Requested-With", "x"}, header{}},
		{"X-Requested-With preferred", []string{"X-Api-Client", "x-requested-with"}, nil, header{"X-Requested-With", "x"}, header{"X-Requested-With", "x"}},
		{"custom header", []string{"x-api-client"}, nil, header{"X-Api-Client", "x"}, header{"X-Api-Client", "x"}},
		{"origin only", []string{"Origin"}, nil, header{"Origin", "https://your.site"}, header{}},
		{"origin only, allowed origin", []string{"origin"}, []string{"https://app.example"}, header{"Origin", "https://app.example"}, header{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			curl, fetch := exampleHeaders(tt.required, tt.origins)
			if curl != tt.curl || fetch != tt.fetch {
				t.Errorf("exampleHeaders = %v, %v; want %v, %v", curl, fetch, tt.curl, tt.fetch)
			}
		})
	}
}

func TestQuoting(t *testing.T) {
	tests := []struct{ in, js, shell string }{
		{"https://a.example/x?y=1&z=2", "https://a.example/x?y=1&z=2", "https://a.example/x?y=1&z=2"},
		{`it's "quoted"`, `it's \"quoted\"`, `it'\''s "quoted"`},
		{"back\\slash\nline", `back\\slash\nline`, "back\\slash\nline"},
		{"<script>", "<script>", "<script>"}, // the template escapes HTML
		{"\u2028", `\u2028`, "\u2028"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := jsStringBody(tt.in); got != tt.js {
				t.Errorf("jsStringBody(%q) = %q, want %q", tt.in, got, tt.js)
			}
			if got := shellQuoteBody(tt.in); got != tt.shell {
				t.Errorf("shellQuoteBody(%q) = %q, want %q", tt.in, got, tt.shell)
			}
		})
	}
}

func TestExampleHeadersWithKey(t *testing.T) {
	key := header{"X-Corsbridge-Key", "YOUR_KEY"}
	tests := []struct {
		name          string
		info          Info
		curl, fetch   []header
		keys, require bool
	}{
		{"no key", Info{RequireHeader: []string{"Origin", "X-Requested-With"}}, []header{{"X-Requested-With", "x"}}, nil, false, false},
		{"keys optional", Info{KeysEnabled: true, RequireHeader: []string{"Origin", "X-Requested-With"}}, []header{{"X-Requested-With", "x"}}, nil, true, false},
		{"key required", Info{RequireKey: true, RequireHeader: []string{"Origin", "X-Requested-With"}}, []header{{"X-Requested-With", "x"}, key}, []header{key}, true, true},
		{"key required, no header", Info{RequireKey: true}, []header{key}, []header{key}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newInfoView(tt.info)
			if !slices.Equal(v.CurlHeaders, tt.curl) || !slices.Equal(v.FetchHeaders, tt.fetch) {
				t.Errorf("CurlHeaders %v, FetchHeaders %v; want %v, %v", v.CurlHeaders, v.FetchHeaders, tt.curl, tt.fetch)
			}
			if v.KeysEnabled != tt.keys || v.RequireKey != tt.require {
				t.Errorf("KeysEnabled %v, RequireKey %v; want %v, %v", v.KeysEnabled, v.RequireKey, tt.keys, tt.require)
			}
		})
	}
}
