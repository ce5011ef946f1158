package cache

import (
	"encoding/binary"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// entry is one stored response: the upstream's status, headers and body as
// the proxy scrubbed them, before any per-request header (CORS, request id,
// rate limits) was added. An index entry holds only the Vary names of a
// response that varies; its variants are stored under varyKey.
type entry struct {
	status   int
	header   http.Header
	body     []byte
	fresh    freshness
	vary     []string
	selector string
	index    bool
	// pass marks, in memory only, a request whose last answer was not
	// storable; see markPass.
	pass bool
	// length is Content-Length of the body, formatted once when the entry
	// is stored or read from Redis rather than on every hit.
	length []string
	// expose is Options.Expose's answer for a full hit on this entry.
	expose []string
	// retained is the size of the Redis value an entry read from Redis
	// keeps alive: its headers are substrings of it.
	retained int
}

// contentLength is Content-Length of the stored body.
func (e *entry) contentLength() []string {
	if e.length == nil {
		return []string{strconv.Itoa(len(e.body))} // an entry not stored, as a refresh not kept
	}
	return e.length
}

// weight approximates the memory an entry holds, for the memory tier's bound.
func (e *entry) weight() uint32 {
	n := len(e.body) + len(e.selector) + e.retained + 256
	for name, values := range e.header {
		n += len(name) + 32
		for _, v := range values {
			n += len(v) + 16
		}
	}
	for _, v := range e.vary {
		n += len(v) + 16
	}
	return uint32(min(n, 1<<32-1))
}

// entryVersion starts every encoded entry, so a change of format reads as a
// miss instead of garbage.
const entryVersion = 1

var errBadEntry = errors.New("cache: malformed entry")

// encode writes the entry for Redis. The format is a version byte then
// varints and length-prefixed strings: smaller and cheaper than gob or JSON
// for bodies, and read by decode, which checks every length.
func (e *entry) encode() []byte {
	b := make([]byte, 0, len(e.body)+512)
	b = append(b, entryVersion)
	flags := uint64(0)
	if e.index {
		flags = 1
	}
	b = binary.AppendUvarint(b, flags)
	b = binary.AppendUvarint(b, uint64(e.status))
	b = binary.AppendVarint(b, e.fresh.responseTime.UnixNano())
	for _, d := range []time.Duration{e.fresh.initialAge, e.fresh.lifetime, e.fresh.swr, e.fresh.sie} {
		b = binary.AppendVarint(b, int64(d))
	}
	b = binary.AppendUvarint(b, uint64(len(e.vary)))
	for _, v := range e.vary {
		b = appendString(b, v)
	}
	b = appendString(b, e.selector)
	b = binary.AppendUvarint(b, uint64(len(e.header)))
	for name, values := range e.header {
		b = appendString(b, name)
		b = binary.AppendUvarint(b, uint64(len(values)))
		for _, v := range values {
			b = appendString(b, v)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(e.body)))
	return append(b, e.body...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decoder reads what encode wrote; the first error sticks. It reads from
// the string Redis returned: every header name and value is a substring of
// it, not a copy: a Redis hit makes 17 allocations fewer (73 -> 56,
// BenchmarkCacheHit/handler/redis, docs/performance.md). The entry then
// keeps that string alive with its body copy: twice the body, only while a
// Redis entry is held in memory (LocalTTL), and weighed so.
type decoder struct {
	s   string
	err error
}

// head is up to the longest varint of what is left, as bytes for
// encoding/binary; short enough to be converted on the stack.
func (d *decoder) head() []byte { return []byte(d.s[:min(len(d.s), binary.MaxVarintLen64)]) }

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.head())
	if n <= 0 {
		d.err = errBadEntry
		return 0
	}
	d.s = d.s[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.head())
	if n <= 0 {
		d.err = errBadEntry
		return 0
	}
	d.s = d.s[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.s)) {
		d.err = errBadEntry
		return ""
	}
	s := d.s[:n]
	d.s = d.s[n:]
	return s
}

// count reads a number of items, each at least one byte long, so a forged
// count cannot make decode allocate more than the input's size.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.s)) {
		d.err = errBadEntry
		return 0
	}
	return int(n)
}

func decodeEntry(b string) (*entry, error) {
	if len(b) == 0 || b[0] != entryVersion {
		return nil, errBadEntry
	}
	d := &decoder{s: b[1:]}
	e := &entry{retained: len(b)}
	e.index = d.uvarint() == 1
	status := d.uvarint()
	if status < 100 || status > 999 {
		d.err = errBadEntry
	}
	e.status = int(status)
	e.fresh.responseTime = time.Unix(0, d.varint())
	e.fresh.initialAge = time.Duration(d.varint())
	e.fresh.lifetime = time.Duration(d.varint())
	e.fresh.swr = time.Duration(d.varint())
	e.fresh.sie = time.Duration(d.varint())
	if n := d.count(); n > 0 {
		e.vary = make([]string, n)
		for i := range e.vary {
			e.vary[i] = d.string()
		}
	}
	e.selector = d.string()
	n := d.count()
	e.header = make(http.Header, n)
	for range n {
		name := d.string()
		values := make([]string, d.count())
		for i := range values {
			values[i] = d.string()
		}
		e.header[name] = values
	}
	e.body = []byte(d.string())
	if d.err == nil && len(d.s) != 0 {
		d.err = errBadEntry
	}
	if d.err != nil {
		return nil, d.err
	}
	return e, nil
}
