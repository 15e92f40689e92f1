package health

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pajarito-care/pajarito/shared/xapi"
)

// CheckXChat reports the brand's OAuth 2.0 sign-in, which X Chat needs.
const CheckXChat = "x_chat"

// OAuth2 gives the brand's OAuth 2.0 token, refreshed when due
// (*xapi.OAuth2Keeper).
type OAuth2 interface {
	Token(ctx context.Context) (xapi.OAuth2Token, error)
}

// xchat checks the brand's OAuth 2.0 sign-in: none is not a fault (X Chat
// messages are then kept unread, which the unhandled check reports); a token
// X refuses to refresh, or another account's, is.
func (c *Checker) xchat(ctx context.Context, now time.Time) Check {
	if c.OAuth2 == nil {
		return skipped
	}
	tok, err := c.OAuth2.Token(ctx)
	switch {
	case errors.Is(err, xapi.ErrOAuth2NotSignedIn):
		return ok(CheckXChat, text("the brand has not signed in with OAuth 2.0: X Chat messages are kept, unread (README: X Chat; pajarito x auth signs it in)",
			"la marca no ha iniciado sesión con OAuth 2.0: los mensajes de X Chat se guardan sin leer (README: X Chat; pajarito x auth inicia la sesión)"))
	case errors.Is(err, xapi.ErrOAuth2Refresh):
		return fail(CheckXChat, text(fmt.Sprintf("X refused to refresh the brand's OAuth 2.0 token: %v", err),
			fmt.Sprintf("X se negó a renovar el token OAuth 2.0 de la marca: %v", err)),
			text("sign the brand in again: pajarito x auth (the token was revoked, or its refresh token was used by another copy of the credentials)",
				"inicie de nuevo la sesión de la marca: pajarito x auth (el token se revocó, o otra copia de las credenciales usó su token de renovación)"))
	case err != nil:
		return broken(CheckXChat, "the brand's OAuth 2.0 token", err)
	case c.Config != nil && tok.UserID != c.Config.Brand.ID:
		return fail(CheckXChat, text(fmt.Sprintf("the OAuth 2.0 token acts for user %s, not the brand (%s)", tok.UserID, c.Config.Brand.ID),
			fmt.Sprintf("el token OAuth 2.0 actúa como el usuario %s, no la marca (%s)", tok.UserID, c.Config.Brand.ID)),
			text("sign in to X as the brand and run pajarito x auth again", "inicie sesión en X como la marca y vuelva a ejecutar pajarito x auth"))
	}
	return ok(CheckXChat, text(fmt.Sprintf("the brand is signed in with OAuth 2.0; the token is valid until %s and is refreshed before", tok.Expiry.UTC().Format(time.RFC3339)),
		fmt.Sprintf("la marca tiene sesión con OAuth 2.0; el token vale hasta %s y se renueva antes", tok.Expiry.UTC().Format(time.RFC3339))))
}
