package wire

// TokenResponse answers both GET /cgi-bin/token (query grant_type, appid,
// secret) and POST /cgi-bin/stable_token. expires_in is at most 7200 s
// (documented). On failure the token fields are empty and the Envelope says
// why.
type TokenResponse struct {
	Envelope
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"` // seconds
}

// StableTokenRequest is the body of POST /cgi-bin/stable_token. In normal
// mode repeated calls return the same token until 5 minutes before it
// expires; ForceRefresh invalidates the current one (documented: at most 20
// a day, 30 s apart).
type StableTokenRequest struct {
	GrantType    string `json:"grant_type"`
	AppID        string `json:"appid"`
	Secret       string `json:"secret"`
	ForceRefresh bool   `json:"force_refresh,omitempty"`
}

// DefaultTokenTTL is the documented lifetime of an access token, in seconds.
const DefaultTokenTTL = 7200

// TokenOverlap is how long a token stays valid after cgi-bin/token issued a
// newer one, and how long before expiry stable_token starts handing out a new
// one, in seconds (documented: 5 minutes).
const TokenOverlap = 300
