package xchatopen

import (
	"fmt"
	"strings"

	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xchat"
)

// Identities returns the brand's X Chat identities, for Opener.Identities,
// from the fields of the secret (or the file) where pajarito xchat setup keeps
// them: the current private keys (xapi.SecretXChatPrivateKeys) under their
// version (xapi.SecretXChatKeyVersion), and those a rotation replaced under
// xapi.SecretXChatPreviousKeysPrefix and their version. None, without error,
// when the brand has no X Chat keys. Errors name the field, never a key.
func Identities(fields map[string]string, brandID string) (map[string]*xchat.Identity, error) {
	out := map[string]*xchat.Identity{}
	add := func(field, version string) error {
		if version == "" {
			return fmt.Errorf("xchatopen: %s has no key version (%s)", field, xapi.SecretXChatKeyVersion)
		}
		id, err := xchat.ParseIdentityBase64(fields[field])
		if err != nil {
			return fmt.Errorf("xchatopen: %s: %w", field, err)
		}
		id.UserID, id.KeyVersion = brandID, version
		out[version] = id
		return nil
	}
	for field := range fields {
		if version, ok := strings.CutPrefix(field, xapi.SecretXChatPreviousKeysPrefix); ok {
			if err := add(field, version); err != nil {
				return nil, err
			}
		}
	}
	if fields[xapi.SecretXChatPrivateKeys] != "" {
		if err := add(xapi.SecretXChatPrivateKeys, fields[xapi.SecretXChatKeyVersion]); err != nil {
			return nil, err
		}
	}
	return out, nil
}
