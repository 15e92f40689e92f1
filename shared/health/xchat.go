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
	signed := text(fmt.Sprintf("the brand is signed in with OAuth 2.0; the token is valid until %s and is refreshed before", tok.Expiry.UTC().Format(time.RFC3339)),
		fmt.Sprintf("la marca tiene sesión con OAuth 2.0; el token vale hasta %s y se renueva antes", tok.Expiry.UTC().Format(time.RFC3339)))
	if c.XChatKeys == nil {
		return ok(CheckXChat, signed)
	}
	return c.xchatKeys(ctx, tok.AccessToken, signed)
}

// XChatKeys reports the brand's X Chat keys: the version of the keys Pajarito
// holds ("" for none) and the versions X serves for the brand, read with the
// brand's OAuth 2.0 access token.
type XChatKeys func(ctx context.Context, accessToken string) (held string, registered []string, err error)

// xchatKeys checks that the X Chat keys Pajarito holds are the ones X serves
// for the brand: customers encrypt to X's newest, and Pajarito opens only
// what was encrypted to its own.
func (c *Checker) xchatKeys(ctx context.Context, token string, signed map[string]string) Check {
	held, registered, err := c.XChatKeys(ctx, token)
	newest := ""
	for _, v := range registered {
		if len(v) > len(newest) || len(v) == len(newest) && v > newest {
			newest = v
		}
	}
	rotate := text("make new keys for the brand: pajarito xchat setup --rotate (README: X Chat)",
		"cree claves nuevas para la marca: pajarito xchat setup --rotate (README: X Chat)")
	switch {
	case err != nil:
		return broken(CheckXChat, "the brand's X Chat keys", err)
	case held == "":
		return ok(CheckXChat, text(signed["en"]+"; the brand has no X Chat keys: X Chat messages are kept, unread (pajarito xchat setup makes them)",
			signed["es"]+"; la marca no tiene claves de X Chat: los mensajes de X Chat se guardan sin leer (pajarito xchat setup las crea)"))
	case newest == "":
		return fail(CheckXChat, text("X serves no X Chat keys for the brand, although Pajarito holds keys of version "+held+": customers cannot write to it in X Chat",
			"X no ofrece claves de X Chat de la marca, aunque Pajarito tiene claves de la versión "+held+": los clientes no pueden escribirle por X Chat"), rotate)
	case newest != held:
		return fail(CheckXChat, text(fmt.Sprintf("X serves X Chat keys of version %s for the brand, newer than Pajarito's (%s), made elsewhere (X's app?): what customers encrypt to them, Pajarito cannot open", newest, held),
			fmt.Sprintf("X ofrece claves de X Chat de la versión %s para la marca, más nuevas que las de Pajarito (%s), creadas en otro sitio (¿la app de X?): Pajarito no puede abrir lo que los clientes cifren con ellas", newest, held)), rotate)
	}
	return ok(CheckXChat, text(signed["en"]+"; its X Chat keys (version "+held+") are the ones X serves",
		signed["es"]+"; sus claves de X Chat (versión "+held+") son las que ofrece X"))
}
