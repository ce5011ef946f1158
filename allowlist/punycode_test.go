package allowlist

import "testing"

func TestPunycode(t *testing.T) {
	for _, c := range []struct{ name, unicode, ascii string }{
		{"german", "bücher", "bcher-kva"},
		{"german city", "münchen", "mnchen-3ya"},
		{"spanish", "españa", "espaa-rta"},
		{"single", "ü", "tda"},
		{"eszett", "ß", "zca"},
		{"japanese", "日本語", "wgv71a119e"},
		{"russian", "правда", "80aafi6cg"},
		{"decomposed", "bu\u0308cher", "bucher-xyd"},
		{"hyphens", "ü-ü", "--dhab"},
		{"rfc3492 arabic", "\u0644\u064A\u0647\u0645\u0627\u0628\u062A\u0643\u0644\u0645\u0648\u0634\u0639\u0631\u0628\u064A\u061F", "egbpdaj6bu4bxfgehfvwxn"},
		{"rfc3492 chinese", "\u4ED6\u4EEC\u4E3A\u4EC0\u4E48\u4E0D\u8BF4\u4E2D\u6587", "ihqwcrb4cv8a8dqg056pqjye"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := punyEncode(c.unicode)
			if err != nil || got != c.ascii {
				t.Errorf("punyEncode(%q) = %q, %v; want %q", c.unicode, got, err, c.ascii)
			}
			back, err := punyDecode(c.ascii)
			if err != nil || back != c.unicode {
				t.Errorf("punyDecode(%q) = %q, %v; want %q", c.ascii, back, err, c.unicode)
			}
		})
	}
}

func TestPunyDecodeRejects(t *testing.T) {
	for _, s := range []string{"99999999999999", "a-!", "é-a", "-", "zzzzzzzzzzzzzzzzzzzzzz"} {
		t.Run(s, func(t *testing.T) {
			if got, err := punyDecode(s); err == nil && isASCII(got) {
				t.Errorf("punyDecode(%q) = %q, want an error or non-ASCII output", s, got)
			}
		})
	}
}
