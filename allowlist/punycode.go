package allowlist

import (
	"errors"
	"math"
	"strings"
	"unicode/utf8"
)

// Punycode (RFC 3492) written from the RFC, so the package stays standard library only.
// Host rules are compared on ASCII names: *.bücher.example must match xn--bcher-kva.example,
// and the name that is checked must be the exact name the resolver is given.

const (
	pcBase        = 36
	pcTMin        = 1
	pcTMax        = 26
	pcSkew        = 38
	pcDamp        = 700
	pcInitialBias = 72
	pcInitialN    = 128
	pcDelimiter   = '-'
)

var errPunycode = errors.New("allowlist: bad punycode")

func pcAdapt(delta, numPoints int, first bool) int {
	if first {
		delta /= pcDamp
	} else {
		delta /= 2
	}
	delta += delta / numPoints
	k := 0
	for delta > ((pcBase-pcTMin)*pcTMax)/2 {
		delta /= pcBase - pcTMin
		k += pcBase
	}
	return k + (pcBase-pcTMin+1)*delta/(delta+pcSkew)
}

func pcThreshold(k, bias int) int {
	switch {
	case k <= bias:
		return pcTMin
	case k >= bias+pcTMax:
		return pcTMax
	}
	return k - bias
}

func pcDigit(d int) byte {
	if d < 26 {
		return byte('a' + d)
	}
	return byte('0' + d - 26)
}

func pcValue(c byte) (int, bool) {
	switch {
	case 'a' <= c && c <= 'z':
		return int(c - 'a'), true
	case 'A' <= c && c <= 'Z':
		return int(c - 'A'), true
	case '0' <= c && c <= '9':
		return int(c-'0') + 26, true
	}
	return 0, false
}

// punyEncode encodes a Unicode label (without the "xn--" prefix), RFC 3492 section 6.3.
func punyEncode(label string) (string, error) {
	input := []rune(label)
	var out strings.Builder
	for _, r := range input {
		if r < 0x80 {
			out.WriteByte(byte(r))
		}
	}
	b := out.Len()
	h := b
	if b > 0 {
		out.WriteByte(pcDelimiter)
	}
	n, delta, bias := pcInitialN, 0, pcInitialBias
	for h < len(input) {
		m := math.MaxInt32
		for _, r := range input {
			if int(r) >= n && int(r) < m {
				m = int(r)
			}
		}
		if (m - n) > (math.MaxInt32-delta)/(h+1) {
			return "", errPunycode
		}
		delta += (m - n) * (h + 1)
		n = m
		for _, r := range input {
			if int(r) < n {
				delta++
				if delta == math.MaxInt32 {
					return "", errPunycode
				}
			}
			if int(r) != n {
				continue
			}
			q := delta
			for k := pcBase; ; k += pcBase {
				t := pcThreshold(k, bias)
				if q < t {
					break
				}
				out.WriteByte(pcDigit(t + (q-t)%(pcBase-t)))
				q = (q - t) / (pcBase - t)
			}
			out.WriteByte(pcDigit(q))
			bias = pcAdapt(delta, h+1, h == b)
			delta = 0
			h++
		}
		delta++
		n++
	}
	return out.String(), nil
}

// punyDecode decodes a label (without the "xn--" prefix), RFC 3492 section 6.2.
func punyDecode(s string) (string, error) {
	var output []rune
	start := 0
	if d := strings.LastIndexByte(s, pcDelimiter); d > 0 {
		for i := 0; i < d; i++ {
			if s[i] >= 0x80 {
				return "", errPunycode
			}
			output = append(output, rune(s[i]))
		}
		start = d + 1
	}
	n, i, bias := pcInitialN, 0, pcInitialBias
	for in := start; in < len(s); {
		oldi, w := i, 1
		for k := pcBase; ; k += pcBase {
			if in >= len(s) {
				return "", errPunycode
			}
			digit, ok := pcValue(s[in])
			in++
			if !ok || digit > (math.MaxInt32-i)/w {
				return "", errPunycode
			}
			i += digit * w
			t := pcThreshold(k, bias)
			if digit < t {
				break
			}
			if w > math.MaxInt32/(pcBase-t) {
				return "", errPunycode
			}
			w *= pcBase - t
		}
		size := len(output) + 1
		bias = pcAdapt(i-oldi, size, oldi == 0)
		if i/size > math.MaxInt32-n {
			return "", errPunycode
		}
		n += i / size
		i %= size
		if n > utf8.MaxRune || (n >= 0xD800 && n <= 0xDFFF) {
			return "", errPunycode
		}
		output = append(output, 0)
		copy(output[i+1:], output[i:])
		output[i] = rune(n)
		i++
	}
	return string(output), nil
}
