package wire

// Errcodes (documented in the WeChat CloudBase errcode table unless marked).
// The spec's table says what a client does with each.
const (
	CodeOK          = 0
	CodeBusy        = -1    // system busy: retry with backoff
	CodeSystemError = -1000 // system error: retry with backoff

	CodeInvalidToken       = 40001 // bad secret, or a token that is not the latest
	CodeInvalidGrantType   = 40002
	CodeInvalidAppID       = 40013
	CodeInvalidAccessToken = 40014
	CodeInvalidArg         = 40097 // invalid argument (the emulator also uses it for bad paths, > 50 IDs, bad max_age: chosen)
	CodeMissingParam       = 40101
	CodeIPNotWhitelisted   = 40164
	CodeTokenMissing       = 41001
	CodeTokenExpired       = 42001
	CodeRequireGet         = 43001
	CodeRequirePost        = 43002
	CodeEmptyBody          = 44002
	CodeQuota              = 45009 // daily quota or frequency limit
	CodeBadJSON            = 47001
	CodeNoCloudBase        = 85088 // CloudBase not enabled for this app

	CodeCloudSystem      = -501001
	CodeCloudTimeout     = -501002
	CodeRequestQuota     = -501003 // request count over the env's quota
	CodeConcurrencyQuota = -501004
	CodeCloudParam       = -501007
	CodeResourceMissing  = -501009 // resource invalid or missing; the emulator answers it for a wrong env (chosen)
	CodeReadQuota        = -501015
	CodeWriteQuota       = -501016
	CodeDiskFull         = -501017
	CodeCloudParam2      = -501020 // a second "parameter error" of the table

	CodeDBRequestFailed     = -502001
	CodeDBBadQuery          = -502002 // the emulator's answer for a query it does not understand (chosen)
	CodeDBCollectionMissing = -502005
	CodeDBCollectionExists  = -502013 // databasecollectionadd of an existing name; the real code is unknown (chosen)
	CodeDBDuplicate         = -502012 // unique-index clash; the real code is unknown (chosen)

	CodeFileRequestFailed = -503001
	CodeFileNoPermission  = -503002
	CodeFileNotExist      = -503003 // also used for "illegal signature"
)

// Per-file status in batchdownloadfile and batchdeletefile replies. 0 is ok;
// a file ID that does not exist (or whose object was uploaded without the
// right x-cos-meta-fileid) gets StatusNonexist with ErrMsgFileNonexist and an
// empty download_url (community reports; other values unknown).
const (
	StatusOK           = 0
	StatusNonexist     = 1
	ErrMsgFileNonexist = "STORAGE_FILE_NONEXIST"
)

// CollectionExists is what the errmsg of a CodeDBCollectionExists answer
// contains (the CloudBase SDK's error name).
const CollectionExists = "DATABASE_COLLECTION_ALREADY_EXIST"

// DuplicateKey is what the errmsg of a CodeDBDuplicate answer contains
// (chosen, after MongoDB's "E11000 duplicate key error").
const DuplicateKey = "duplicate key"
