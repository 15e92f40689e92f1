package protocol

import "time"

// Defaults.
const (
	DefaultCooldown     = 24 * time.Hour
	DefaultRepeatWindow = 30 * 24 * time.Hour
	// The first-response service level: every priority within an hour of business
	// time, and 48 hours at the most whatever the hours.
	DefaultFirstResponse = time.Hour
	DefaultHardLimit     = 48 * time.Hour
)

// DefaultConfig is the protocol of a deployment whose pajarito.json has no
// "protocol" section: self-serve tier, English with Spanish, always open (no
// business hours), generic templates signed "^Equipo" / "^Team", "problema"
// forbidden, departments billing, bookings, technical, sales, safety and social
// (the default), no crisis topics, and a first response within an hour of
// business time (48 hours at the most).
func DefaultConfig() Config {
	return Config{
		Tier:        SelfServe,
		DefaultLang: "en",
		Langs:       []string{"es", "en"},
		Timezone:    "UTC",
		Signature:   map[string]string{"es": "^Equipo", "en": "^Team"},
		Channels:    map[string]string{},
		// Agents sign with their first name.
		AgentSignature:    "^{agent}",
		AutoReplyCooldown: DurationOf(DefaultCooldown),
		AutoReply:         []string{"complaint", "incident", "question", "sales", "praise"},
		MoveToDM: MoveToDM{
			PII:         true,
			Grave:       true,
			Departments: []string{"billing", "bookings"},
			Keywords: []string{
				"mi cuenta", "contraseña", "tarjeta", "cobro*", "cobrad*", "cargo*", "reembols*", "factura", "facturas", "pago*",
				"my account", "password", "card", "charge*", "refund*", "invoice*", "payment*",
			},
		},
		GraveKinds:        []string{"safety", "medical", "legal_threat", "fraud"},
		ForbiddenWords:    []string{"problema", "problemas"},
		Replacements:      map[string]string{"problema": "incidencia", "problemas": "incidencias"},
		Templates:         DefaultTemplates(),
		Departments:       []string{"safety", "billing", "bookings", "technical", "sales", "social"},
		DefaultDepartment: "social",
		Routing: []RouteRule{
			{Name: "safety", Department: "safety", UrgencyKinds: []string{"safety", "medical"}},
			{Name: "billing", Department: "billing", UrgencyKinds: []string{"fraud"}},
			{Name: "payments", Department: "billing", Keywords: []string{"cobro*", "cobrad*", "cargo*", "reembols*", "factura", "facturas", "tarjeta", "pago*", "refund*", "charge*", "invoice*", "payment*"}},
			{Name: "payment-data", Department: "billing", PII: []string{"card", "iban"}},
			{Name: "bookings", Department: "bookings", Keywords: []string{"reserva*", "localizador", "cambio de fecha", "cancelar", "booking*", "reservation*", "change my", "cancel"}},
			{Name: "technical", Department: "technical", Keywords: []string{"app", "web", "contraseña", "login", "error", "no funciona", "password", "not working", "crash*"}},
			{Name: "sales", Department: "sales", Intents: []string{"sales"}},
		},
		Priority:     DefaultWeights(),
		RepeatWindow: DurationOf(DefaultRepeatWindow),
		Crisis: CrisisConfig{
			Window:              DurationOf(15 * time.Minute),
			Baseline:            DurationOf(24 * time.Hour),
			MinCount:            20,
			Factor:              4,
			CloseRatio:          0.5,
			MinDuration:         DurationOf(30 * time.Minute),
			QuietAfterManualOff: DurationOf(time.Hour),
			MaxRepliesPerWindow: 30,
			FollowUpAfter:       DurationOf(10 * time.Minute),
			Intents:             []string{"complaint", "incident"},
		},
		SLA: SLAConfig{
			FirstResponse: []ResponseTarget{{MinPriority: 0, Within: DurationOf(DefaultFirstResponse)}},
			BusinessHours: true,
			HardLimit:     DurationOf(DefaultHardLimit),
		},
	}
}

// DefaultTemplates are generic templates in Spanish and English.
func DefaultTemplates() map[string]Template {
	return map[string]Template{
		TemplateComplaint: {Text: map[string]string{
			"es": "Lo sentimos mucho, {first_name}. Hemos recibido tu mensaje y una persona del equipo lo revisa enseguida. {signature}",
			"en": "We're so sorry, {first_name}. We've got your message and someone from the team is looking into it now. {signature}",
		}},
		TemplateIncident: {Text: map[string]string{
			"es": "Lo sentimos, {first_name}. Estamos revisando la incidencia y te contamos en cuanto sepamos más. {signature}",
			"en": "We're sorry, {first_name}. We're looking into the issue and will update you as soon as we know more. {signature}",
		}},
		TemplateQuestion: {Text: map[string]string{
			"es": "¡Hola, {first_name}! Gracias por escribirnos: una persona del equipo te responde en breve. {signature}",
			"en": "Hi {first_name}! Thanks for reaching out: someone from the team will answer shortly. {signature}",
		}},
		TemplatePraise: {Text: map[string]string{
			"es": "¡Muchas gracias, {first_name}! Nos alegra mucho leerte. {signature}",
			"en": "Thank you so much, {first_name}! It's great to hear that. {signature}",
		}},
		TemplateSales: {Text: map[string]string{
			"es": "¡Hola, {first_name}! Gracias por tu interés: una persona del equipo te escribe enseguida con los detalles. {signature}",
			"en": "Hi {first_name}! Thanks for your interest: someone from the team will be in touch shortly with the details. {signature}",
		}},
		TemplateMoveToDM: {
			Text: map[string]string{
				"es": "Hola, {first_name}. Para ayudarte sin exponer tus datos, escríbenos por mensaje directo y lo vemos allí. {signature}",
				"en": "Hi {first_name}. To help you without exposing your details, please send us a DM and we'll take it from there. {signature}",
			},
			Tones: map[string]map[string]string{
				ToneApology: {
					"es": "Lo sentimos, {first_name}. Para revisarlo sin exponer tus datos, escríbenos por mensaje directo y lo vemos allí. {signature}",
					"en": "We're sorry, {first_name}. To look into it without exposing your details, please send us a DM and we'll take it from there. {signature}",
				},
				ToneSerious: {
					"es": "Lo sentimos mucho, {first_name}. Nos lo tomamos muy en serio: escríbenos ahora por mensaje directo y te atendemos personalmente. {signature}",
					"en": "We're very sorry, {first_name}. We take this very seriously: please send us a DM now and we'll look after you personally. {signature}",
				},
			},
		},
		TemplateOutOfHours: {
			Text: map[string]string{
				"es": "Hola, {first_name}. Ahora estamos fuera de horario ({hours}); te respondemos en cuanto abramos. {signature}",
				"en": "Hi {first_name}. We're closed right now ({hours}); we'll answer as soon as we open. {signature}",
			},
			Tones: map[string]map[string]string{
				ToneApology: {
					"es": "Lo sentimos, {first_name}: ahora estamos fuera de horario ({hours}) y te respondemos en cuanto abramos. {signature}",
					"en": "We're sorry, {first_name}: we're closed right now ({hours}) and will answer as soon as we open. {signature}",
				},
			},
		},
		TemplateCrisis: {Text: map[string]string{
			"es": "Lo sentimos, {first_name}. Estamos al tanto de la incidencia con {topic} y trabajamos para resolverla. Te mantenemos informado. {signature}",
			"en": "We're sorry, {first_name}. We're aware of the issue with {topic} and are working to fix it. We'll keep you posted. {signature}",
		}},
		TemplateCrisisStatement: {Text: map[string]string{
			"es": "Lo sentimos, {first_name}. Hemos publicado en nuestro perfil qué pasa con {topic} y lo actualizamos allí (última actualización: {statement_time}). {signature}",
			"en": "We're sorry, {first_name}. We've posted what is happening with {topic} on our profile and keep it updated there (latest update: {statement_time}). {signature}",
		}},
		TemplateCrisisFollowUp: {Text: map[string]string{
			"es": "Lo sentimos de nuevo, {first_name}: la incidencia con {topic} está resuelta. Si aún notas algo, escríbenos por aquí. {signature}",
			"en": "We're sorry again, {first_name}: the issue with {topic} is fixed. If anything still looks wrong, write to us here. {signature}",
		}},
	}
}
