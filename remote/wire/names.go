package wire

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxNameLen is one more than the longest name 123pan takes: names must be
// shorter than 255 characters (runes, not bytes).
const MaxNameLen = 255

// ForbiddenChars are the characters no file or folder name may contain.
const ForbiddenChars = `"\/:*?|><`

// Name errors. ValidateName wraps one of them.
var (
	ErrNameEmpty     = errors.New("name is empty")
	ErrNameTooLong   = errors.New("name is 255 characters or longer")
	ErrNameBadChar   = errors.New(`name contains one of " \ / : * ? | > <`)
	ErrNameAllSpaces = errors.New("name is all spaces")
	ErrNameNotUTF8   = errors.New("name is not valid UTF-8")
)

// ValidateName checks a file or folder name against 123pan's rules.
func ValidateName(name string) error {
	switch {
	case name == "":
		return ErrNameEmpty
	case !utf8.ValidString(name):
		return fmt.Errorf("%q: %w", name, ErrNameNotUTF8)
	case utf8.RuneCountInString(name) >= MaxNameLen:
		return fmt.Errorf("%d characters: %w", utf8.RuneCountInString(name), ErrNameTooLong)
	case strings.ContainsAny(name, ForbiddenChars):
		return fmt.Errorf("%q: %w", name, ErrNameBadChar)
	case strings.Trim(name, " ") == "":
		return fmt.Errorf("%q: %w", name, ErrNameAllSpaces)
	}
	return nil
}
