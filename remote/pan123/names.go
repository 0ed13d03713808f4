package pan123

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/pan123fs/pan123fs/remote/wire"
	"github.com/pan123fs/pan123fs/store"
)

// Name mapping between the Linux side and 123pan.
//
// 123pan refuses the characters " \ / : * ? | > < in names. pan123fs maps
// each of them (except '/', which Linux never passes in a name) to its
// full-width look-alike (＂ ＼ ：＊ ？ ｜ ＞ ＜) on the way out, and back on the
// way in. A local name that really contains one of the look-alikes (common
// in Chinese names, e.g. "图：1.png") is escaped with the quote mark ‛
// (U+201B) so that the mapping stays reversible; a literal ‛ followed by a
// look-alike or another ‛ is escaped the same way.

const escapeRune = '‛'

var toWide = map[rune]rune{
	'"': '＂', '\\': '＼', ':': '：', '*': '＊', '?': '？', '|': '｜', '>': '＞', '<': '＜',
}

var fromWide = func() map[rune]rune {
	m := make(map[rune]rune, len(toWide))
	for a, w := range toWide {
		m[w] = a
	}
	return m
}()

func escapable(r rune) bool {
	_, wide := fromWide[r]
	return wide || r == escapeRune
}

// encodeName maps a local (Linux) name to the name stored on 123pan.
func encodeName(local string) string {
	if !strings.ContainsFunc(local, func(r rune) bool { _, a := toWide[r]; return a || escapable(r) }) {
		return local
	}
	var b strings.Builder
	runes := []rune(local)
	for i, r := range runes {
		if w, ok := toWide[r]; ok {
			b.WriteRune(w)
			continue
		}
		if _, wide := fromWide[r]; wide {
			b.WriteRune(escapeRune)
		} else if r == escapeRune && i+1 < len(runes) && escapable(runes[i+1]) {
			b.WriteRune(escapeRune)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// decodeName maps a 123pan name to the local name; it is the inverse of
// encodeName.
func decodeName(remote string) string {
	if !strings.ContainsFunc(remote, escapable) {
		return remote
	}
	var b strings.Builder
	runes := []rune(remote)
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		if r == escapeRune && i+1 < len(runes) && escapable(runes[i+1]) {
			b.WriteRune(runes[i+1])
			i++
			continue
		}
		if a, ok := fromWide[r]; ok {
			b.WriteRune(a)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// CheckName tells whether local can be a name on 123pan once mapped: nil,
// or an error matching store.ErrInvalidName (and store.ErrNameTooLong for a
// name that is too long) that also wraps the wire.ErrName* reason.
func (b *Backend) CheckName(local string) error {
	_, err := remoteName(local)
	return err
}

// remoteName encodes a local name for 123pan and validates the result.
func remoteName(local string) (string, error) {
	if len(local) > nameMax {
		return "", nameError(local, fmt.Errorf("%d bytes: %w", len(local), wire.ErrNameTooLong))
	}
	if !utf8.ValidString(local) {
		// checked before the mapping, which would turn the bad bytes into
		// U+FFFD and store the name under another one
		return "", nameError(local, wire.ErrNameNotUTF8)
	}
	name := encodeName(local)
	if err := wire.ValidateName(name); err != nil {
		return "", nameError(local, err)
	}
	return name, nil
}

// nameMax is the longest local name in bytes, the NAME_MAX the mount
// reports: the longest byte count 123pan always takes. 123pan counts
// characters (fewer than wire.MaxNameLen, checked on the mapped name), and
// the mapping never yields more characters than the local name has bytes
// (an ASCII character maps to one, a look-alike or a ‛ of 3 bytes to at
// most two, any other character of 2 to 4 bytes to one), so every name of
// up to wire.MaxNameLen-1 bytes passes that check. Longer names are
// refused in bytes, as Linux counts NAME_MAX, even those 123pan would take
// (85 Chinese characters are 255 bytes): one limit the mount can report.
const nameMax = wire.MaxNameLen - 1

// nameError is a name 123pan would refuse.
func nameError(local string, reason error) error {
	kinds := []error{store.ErrInvalidName, store.ErrPermanent}
	if errors.Is(reason, wire.ErrNameTooLong) {
		kinds = append(kinds, store.ErrNameTooLong)
	}
	return store.Wrap(fmt.Errorf("invalid name %q: %w", local, reason), kinds...)
}
