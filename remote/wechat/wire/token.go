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

// ForceRefreshSpacing is the least time between two stable_token calls with
// force_refresh, in seconds (documented: 30 s; the emulator answers
// CodeQuota to a closer one).
const ForceRefreshSpacing = 30

// QcloudTokenRequest is the body of POST /tcb/getqcloudtoken: temporary
// Tencent Cloud credentials for lifespan seconds (at most
// MaxQcloudTokenLifespan). The call is limited to QcloudTokenPerHour an
// hour (documented; CodeQuota beyond).
type QcloudTokenRequest struct {
	Lifespan int `json:"lifespan"`
}

// Limits of getqcloudtoken (documented).
const (
	MaxQcloudTokenLifespan = 7200
	QcloudTokenPerHour     = 10
)

// QcloudTokenResponse is getqcloudtoken's answer. The credentials are
// documented for the CloudBase cloud APIs only; whether COS takes them for
// GET Bucket is unknown (the emulator's COS does not).
type QcloudTokenResponse struct {
	Envelope
	SecretID    string `json:"secretid"`
	SecretKey   string `json:"secretkey"`
	Token       string `json:"token"`
	ExpiredTime int64  `json:"expired_time"` // Unix seconds
}
