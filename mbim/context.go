package mbim

import "strings"

// Context types: the UUIDs used in ContextType fields (MBIM 1.0 table
// "MBIM_CONTEXT_TYPES" and Microsoft's MBIMEx additions). The names in the
// comments are the libmbim MbimContextType nicknames, which
// LookupContextType returns and ContextTypeByName accepts.
//
// Note that "none" (a context that is not provisioned) is a real UUID, not
// the zero UUID; libmbim calls the zero UUID "invalid", and this package
// gives it no name.
var (
	ContextTypeNone             = MustParseUUID("b43f758c-a560-4b46-b35e-c5869641fb54") // "none"
	ContextTypeInternet         = MustParseUUID("7e5e2a7e-4e6f-7272-736b-656e7e5e2a7e") // "internet"
	ContextTypeVPN              = MustParseUUID("9b9f7bbe-8952-44b7-83ac-ca41318df7a0") // "vpn"
	ContextTypeVoice            = MustParseUUID("88918294-0ef4-4396-8cca-a8588fbc02b2") // "voice"
	ContextTypeVideoShare       = MustParseUUID("05a2a716-7c34-4b4d-9a91-c5ef0c7aaacc") // "video-share"
	ContextTypePurchase         = MustParseUUID("b3272496-ac6c-422b-a8c0-acf687a27217") // "purchase"
	ContextTypeIMS              = MustParseUUID("21610d01-3074-4bce-9425-b53a07d697d6") // "ims"
	ContextTypeMMS              = MustParseUUID("46726664-7269-6bc6-9624-d1d35389aca9") // "mms"
	ContextTypeLocal            = MustParseUUID("a57a9afc-b09f-45d7-bb40-033c39f60db9") // "local"
	ContextTypeAdmin            = MustParseUUID("5f7e4c2e-e80b-40a9-a239-f0abcfd11f4b") // "admin" (Microsoft)
	ContextTypeApp              = MustParseUUID("74d88a3d-dfbd-4799-9a8c-7310a37bb2ee") // "app" (Microsoft)
	ContextTypeXCAP             = MustParseUUID("50d378a7-baa5-4a50-b872-3fe5bb463411") // "xcap" (Microsoft)
	ContextTypeTethering        = MustParseUUID("5e4e0601-48dc-4e2b-acb8-08b4016bbaac") // "tethering" (Microsoft)
	ContextTypeEmergencyCalling = MustParseUUID("5f41adb8-204e-4d31-9da8-b3c970e360f2") // "emergency-calling" (Microsoft)
)

// ContextTypeInfo pairs a context type UUID with its nickname.
type ContextTypeInfo struct {
	Name string
	UUID UUID
}

// contextTypes is a private copy, so reassigning the exported variables does
// not change lookups.
var contextTypes = [...]ContextTypeInfo{
	{"none", ContextTypeNone},
	{"internet", ContextTypeInternet},
	{"vpn", ContextTypeVPN},
	{"voice", ContextTypeVoice},
	{"video-share", ContextTypeVideoShare},
	{"purchase", ContextTypePurchase},
	{"ims", ContextTypeIMS},
	{"mms", ContextTypeMMS},
	{"local", ContextTypeLocal},
	{"admin", ContextTypeAdmin},
	{"app", ContextTypeApp},
	{"xcap", ContextTypeXCAP},
	{"tethering", ContextTypeTethering},
	{"emergency-calling", ContextTypeEmergencyCalling},
}

// ContextTypes returns all known context types, in libmbim's enum order.
func ContextTypes() []ContextTypeInfo {
	out := make([]ContextTypeInfo, len(contextTypes))
	copy(out, contextTypes[:])
	return out
}

// LookupContextType returns the nickname of a context type UUID.
func LookupContextType(u UUID) (nick string, ok bool) {
	for i := range contextTypes {
		if contextTypes[i].UUID == u {
			return contextTypes[i].Name, true
		}
	}
	return "", false
}

// ContextTypeByName returns the UUID for a nickname such as "internet" or
// "video-share" (case-insensitive).
func ContextTypeByName(nick string) (UUID, bool) {
	for i := range contextTypes {
		if strings.EqualFold(contextTypes[i].Name, nick) {
			return contextTypes[i].UUID, true
		}
	}
	return UUID{}, false
}
