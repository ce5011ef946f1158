package allowlist

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Internationalised host names. Browsers apply UTS #46 (case folding plus NFKC) before
// punycode; without Unicode normalisation tables we do a strict subset and refuse the rest,
// because the one thing that must never happen is an attacker-chosen spelling that a
// resolver, a browser or an upstream reads as a different host than the one we checked:
//
//   - U+3002, U+FF0E and U+FF61 are dots; full-width ASCII U+FF01..U+FF5E becomes ASCII.
//     The mapped name then goes through every ASCII rule again, so "１２７。０。０。１" is the
//     IPv4 literal 127.0.0.1 and "ｌｏｃａｌｈｏｓｔ" is localhost.
//   - Any other non-ASCII code point must be a letter or combining mark, is lower-cased, and
//     must not lower-case to ASCII (U+212A KELVIN SIGN, U+0130) nor come from a compatibility
//     block that NFKC would fold (math alphanumerics, letterlike symbols, ligatures,
//     presentation forms, super/subscripts, half-width forms, ...). Format characters such as
//     soft hyphen and zero-width joiner, which UTS #46 silently deletes, are refused.
//   - A label with non-ASCII is encoded as "xn--" + punycode. Text is not NFC-normalised:
//     a decomposed "bu\u0308cher" is encoded as written, which is a different DNS name from
//     "bücher"; that is safe (the name checked is the name resolved) but will not match a
//     pattern written with the composed form.
//   - An ASCII label starting "xn--" must decode to a label this function would itself
//     produce, so fake or non-canonical A-labels are refused.

// toASCIIHost maps a host that contains non-ASCII bytes to ASCII. The result still has to
// pass the ASCII host rules.
func toASCIIHost(s string) (string, *Error) {
	if !utf8.ValidString(s) {
		return "", invalid("host is not valid UTF-8")
	}
	mapped := strings.Map(func(r rune) rune {
		switch {
		case r == 0x3002 || r == 0xFF0E || r == 0xFF61:
			return '.'
		case r >= 0xFF01 && r <= 0xFF5E:
			return r - 0xFEE0
		}
		return r
	}, s)
	labels := strings.Split(mapped, ".")
	for i, l := range labels {
		if isASCII(l) {
			continue
		}
		a, err := unicodeLabel(l)
		if err != nil {
			return "", err
		}
		labels[i] = a
	}
	return strings.Join(labels, "."), nil
}

// unicodeLabel lower-cases, validates and punycode-encodes one label containing non-ASCII.
func unicodeLabel(l string) (string, *Error) {
	if utf8.RuneCountInString(l) > 63 { // cannot fit a label; also bounds punycode's quadratic work
		return "", invalid("host has an empty or over-long label")
	}
	var b strings.Builder
	for i, r := range l {
		if r < utf8.RuneSelf {
			c := lowerASCII(byte(r))
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", invalid("host contains a character that is not allowed")
			}
			b.WriteByte(c)
			continue
		}
		lr := unicode.ToLower(r)
		if !idnRuneOK(lr) || (i == 0 && isMark(lr)) {
			return "", invalid("host contains a Unicode character that cannot be safely canonicalised")
		}
		b.WriteRune(lr)
	}
	enc, err := punyEncode(b.String())
	if err != nil {
		return "", invalid("host contains a Unicode character that cannot be safely canonicalised")
	}
	return "xn--" + enc, nil
}

// checkALabel verifies an ASCII "xn--" label (already lower-case): it must decode, contain
// non-ASCII, consist of characters unicodeLabel accepts and re-encode to itself.
func checkALabel(l string) bool {
	u, err := punyDecode(l[len("xn--"):])
	if err != nil || isASCII(u) || u == "" {
		return false
	}
	a, e := unicodeLabel(u)
	return e == nil && a == l
}

func isMark(r rune) bool { return unicode.In(r, unicode.Mn, unicode.Mc) }

// idnRuneOK reports whether a lower-cased non-ASCII rune is accepted in a host label.
func idnRuneOK(r rune) bool {
	if r < utf8.RuneSelf || r == utf8.RuneError {
		return false
	}
	if !(unicode.IsLetter(r) || isMark(r)) || unicode.IsUpper(r) || unicode.IsTitle(r) {
		return false
	}
	for _, b := range compatBlocks {
		if r >= b[0] && r <= b[1] {
			return false
		}
	}
	return true
}

// compatBlocks are ranges whose letters NFKC (or NFC) folds into other characters, so a
// browser would turn them into a different name than their punycode; refusing them is the
// safe answer without normalisation tables.
var compatBlocks = [][2]rune{
	{0x00AA, 0x00AA},   // ª -> a
	{0x00B5, 0x00B5},   // µ -> μ
	{0x00BA, 0x00BA},   // º -> o
	{0x0132, 0x0133},   // Ĳ ĳ -> ij
	{0x013F, 0x0140},   // Ŀ ŀ -> l·
	{0x0149, 0x0149},   // ŉ -> ʼn
	{0x017F, 0x017F},   // ſ -> s
	{0x01C4, 0x01CC},   // Latin digraphs DŽ..nj
	{0x01F1, 0x01F3},   // Latin digraphs DZ..dz
	{0x03D0, 0x03D6},   // Greek symbol letter forms (ϐ -> β)
	{0x03F0, 0x03F5},   // Greek symbol letter forms (ϰ -> κ)
	{0x03F9, 0x03F9},   // Ϲ -> ς
	{0x02B0, 0x02FF},   // spacing modifier letters (ʰ -> h)
	{0x1D00, 0x1DBF},   // phonetic extensions and their modifier letters
	{0x2070, 0x209F},   // superscripts and subscripts
	{0x2100, 0x214F},   // letterlike symbols (ℯ, K, Å, Ω)
	{0x2150, 0x218F},   // number forms
	{0x2460, 0x24FF},   // enclosed alphanumerics
	{0x3130, 0x318F},   // Hangul compatibility jamo
	{0x3200, 0x33FF},   // enclosed CJK letters, CJK compatibility
	{0xF900, 0xFAFF},   // CJK compatibility ideographs
	{0xFB00, 0xFDFF},   // ligatures, alphabetic and Arabic presentation forms A
	{0xFE00, 0xFE0F},   // variation selectors (deleted by UTS #46)
	{0xFE70, 0xFEFF},   // Arabic presentation forms B
	{0xFF00, 0xFFEF},   // half-width and full-width forms not mapped above
	{0x1D400, 0x1D7FF}, // mathematical alphanumeric symbols
	{0x1F100, 0x1F1FF}, // enclosed alphanumeric supplement
	{0x2F800, 0x2FA1F}, // CJK compatibility ideographs supplement
	{0xE0000, 0xE0FFF}, // tags and variation selectors supplement
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
