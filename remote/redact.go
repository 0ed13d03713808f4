package remote

import (
	"errors"
	"log/slog"
	"net/url"
	"strings"
)

// signedURL is a URL whose query may hold a signature, an expiry and a key
// (a presigned slice URL, a download link with an auth key): whoever reads
// it may use it. Log lines and errors show it without its query.
type signedURL string

// minSecretLen is the shortest query value treated as a secret when it
// turns up in a server's error text: signatures and keys are longer,
// part numbers and flags shorter.
const minSecretLen = 8

// String is the URL with its query replaced.
func (u signedURL) String() string { return redactQuery(string(u)) }

// LogValue is String, for every slog handler (JSON would print the string).
func (u signedURL) LogValue() slog.Value { return slog.StringValue(u.String()) }

// redactQuery replaces whatever follows the first '?' of s.
func redactQuery(s string) string {
	if i := strings.IndexByte(s, '?'); i >= 0 && i+1 < len(s) {
		return s[:i+1] + redactedText
	}
	return s
}

// secrets are the query string and its values long enough to matter.
func (u signedURL) secrets() []string {
	_, q, ok := strings.Cut(string(u), "?")
	if !ok || q == "" {
		return nil
	}
	out := []string{q}
	vals, _ := url.ParseQuery(q)
	for _, vs := range vals {
		for _, v := range vs {
			if len(v) >= minSecretLen {
				out = append(out, v, url.QueryEscape(v))
			}
		}
	}
	return out
}

// scrub makes sure err's text shows none of u's secrets. The *url.Error
// that net/http returns (`Put "https://host/path?signature=...": EOF`) has
// its URL's query replaced in place: it was made for this request and is
// not shared, and its type, and the classification of err, are kept.
// Anything else, such as a server's error text quoting the signature, is
// replaced as scrubSecret replaces a secret.
func (u signedURL) scrub(err error) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = redactQuery(ue.URL)
	}
	for _, s := range u.secrets() {
		err = scrubSecret(err, s)
	}
	return err
}
