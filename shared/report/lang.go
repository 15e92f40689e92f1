package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// labels are a report's words in one language.
type labels struct {
	Title, Period, Timezone, Generated                     string
	Cases, FRTMedian, FRTP90, ResolutionMedian, CSAT       string
	Unanswered, UnansweredOK, UnansweredAlert              string
	AutomaticShare, XSpend, Responses, OfReplies           string
	Volume, VolumeNote, FRT, FRTNote, CSATTrend, CSATNote  string
	Staffing, StaffingNote, StaffingTable, NoData, NoPlan  string
	Hour, Arrivals, Agents, ServiceLevel, Occupancy, ASA   string
	Median, P90, CasesAxis, AgentsAxis, Unlabelled, Footer string
	Target                                                 string
	Crises, CrisesNote, NoCrisis, Auto                     string
	FollowUpsLine, FollowUpsSkipped                        string
	Events, SkipReasons                                    map[string]string
	Intents                                                map[string]string
	Months                                                 [12]string
	Decimal                                                byte
}

var labelsByLang = map[string]*labels{
	"es": {
		Title: "Atención al cliente en X", Period: "Periodo", Timezone: "Zona horaria", Generated: "Generado",
		Cases: "Casos", FRTMedian: "Primera respuesta (mediana)", FRTP90: "Primera respuesta (p90)",
		ResolutionMedian: "Resolución (mediana)", CSAT: "Satisfacción (CSAT)",
		Unanswered: "Sin respuesta", UnansweredOK: "todos los casos respondidos", UnansweredAlert: "debe ser 0",
		AutomaticShare: "Respuestas automáticas", XSpend: "Gasto en X", Responses: "respuestas", OfReplies: "de %s respuestas",
		Volume: "Casos nuevos por hora e intención", VolumeNote: "Casos por la hora del día en que escribió el cliente (%s), apilados por intención.",
		FRT: "Tiempo de primera respuesta", FRTNote: "Casos por tiempo hasta la primera respuesta de la marca.",
		CSATTrend: "Satisfacción por día", CSATNote: "Media diaria de las encuestas (1 a 5).",
		Staffing: "Agentes necesarios por hora", StaffingNote: "Erlang C sobre los casos medidos por hora del día (%s).",
		StaffingTable: "Plan de personal por hora", NoData: "Sin datos todavía", NoPlan: "Sin plan de personal",
		Hour: "Hora", Arrivals: "Casos/hora", Agents: "Agentes", ServiceLevel: "Nivel de servicio", Occupancy: "Ocupación", ASA: "Espera media",
		Median: "mediana", P90: "p90", CasesAxis: "casos", AgentsAxis: "agentes", Unlabelled: "sin etiqueta",
		Footer: "Pajarito · informe autónomo: sin scripts ni recursos externos.",
		Target: "Objetivo: %s de los casos respondidos en menos de %s; %s por caso; ocupación máxima %s.",
		Crises: "Crisis", CrisesNote: "Cada crisis del periodo: cuándo se abrió, el comunicado público y sus actualizaciones, cuándo se cerró y el seguimiento a los afectados.",
		NoCrisis: "Ninguna crisis en el periodo", Auto: "automática",
		FollowUpsLine: "Seguimiento: %s clientes afectados, %s avisados de que terminó.", FollowUpsSkipped: "Sin aviso: %s.",
		Events: map[string]string{
			"opened": "Abierta", "statement": "Comunicado publicado", "update": "Actualización publicada", "closed": "Cerrada",
			"followups_started": "Empieza el seguimiento", "followups_done": "Seguimiento terminado",
		},
		SkipReasons: map[string]string{"answered_by_person": "ya atendidos por una persona", "nothing_to_answer": "sin nada que responder", "linter": "rechazados por el corrector"},
		Intents: map[string]string{
			"complaint": "queja", "incident": "incidencia", "question": "pregunta", "sales": "ventas",
			"praise": "elogio", "spam": "spam", "other": "otro",
		},
		Months:  [12]string{"ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"},
		Decimal: ',',
	},
	"en": {
		Title: "Customer care on X", Period: "Period", Timezone: "Time zone", Generated: "Generated",
		Cases: "Cases", FRTMedian: "First response (median)", FRTP90: "First response (p90)",
		ResolutionMedian: "Resolution (median)", CSAT: "Satisfaction (CSAT)",
		Unanswered: "Unanswered", UnansweredOK: "every case answered", UnansweredAlert: "must be 0",
		AutomaticShare: "Automatic replies", XSpend: "X spend", Responses: "responses", OfReplies: "of %s replies",
		Volume: "New cases by hour and intent", VolumeNote: "Cases by the hour of day their customer first wrote (%s), stacked by intent.",
		FRT: "First-response time", FRTNote: "Cases by time to the brand's first response.",
		CSATTrend: "Satisfaction by day", CSATNote: "Daily mean of the surveys (1 to 5).",
		Staffing: "Agents needed per hour", StaffingNote: "Erlang C on the cases measured per hour of day (%s).",
		StaffingTable: "Staffing plan by hour", NoData: "No data yet", NoPlan: "No staffing plan",
		Hour: "Hour", Arrivals: "Cases/hour", Agents: "Agents", ServiceLevel: "Service level", Occupancy: "Occupancy", ASA: "Avg. wait",
		Median: "median", P90: "p90", CasesAxis: "cases", AgentsAxis: "agents", Unlabelled: "unlabelled",
		Footer: "Pajarito · self-contained report: no scripts, no external resources.",
		Target: "Target: %s of cases answered within %s; %s per case; occupancy at most %s.",
		Crises: "Crises", CrisesNote: "Each crisis of the period: when it opened, the public statement and its updates, when it closed, and the follow-up to those affected.",
		NoCrisis: "No crisis in the period", Auto: "automatic",
		FollowUpsLine: "Follow-up: %s customers affected, %s told it was over.", FollowUpsSkipped: "Not told: %s.",
		Events: map[string]string{
			"opened": "Opened", "statement": "Statement posted", "update": "Update posted", "closed": "Closed",
			"followups_started": "Follow-ups start", "followups_done": "Follow-ups done",
		},
		SkipReasons: map[string]string{"answered_by_person": "already answered by a person", "nothing_to_answer": "nothing left to answer", "linter": "refused by the linter"},
		Intents: map[string]string{
			"complaint": "complaint", "incident": "incident", "question": "question", "sales": "sales",
			"praise": "praise", "spam": "spam", "other": "other",
		},
		Months:  [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
		Decimal: '.',
	},
}

// intent names an intent.
func (l *labels) intent(name string) string {
	if name == "" {
		return l.Unlabelled
	}
	if s, ok := l.Intents[name]; ok {
		return s
	}
	return name
}

// number formats v with decimals digits after the language's decimal mark.
func (l *labels) number(v float64, decimals int) string {
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if l.Decimal != '.' {
		s = strings.Replace(s, ".", string(l.Decimal), 1)
	}
	return s
}

// count formats a whole number with thousands separators (1,234 or 1.234).
func (l *labels) count(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	sep := ","
	if l.Decimal == ',' {
		sep = "."
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// percent formats a share 0–1 as a percentage.
func (l *labels) percent(share float64) string {
	p := share * 100
	s := l.number(p, 1)
	if p >= 10 || p == math.Trunc(p) {
		s = strconv.FormatFloat(math.Round(p), 'f', 0, 64)
	}
	if l.Decimal == ',' {
		return s + "\u00a0%" // Spanish spaces the sign: 80 %
	}
	return s + "%"
}

// usd formats dollars.
func (l *labels) usd(v float64) string {
	if l.Decimal == ',' {
		return l.number(v, 2) + "\u00a0US$"
	}
	return "$" + l.number(v, 2)
}

// duration formats seconds for a reader: "45 s", "12 min", "1 h 05 min", "2 d 3 h".
func (l *labels) duration(seconds float64) string {
	d := time.Duration(math.Round(seconds)) * time.Second
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d\u00a0s", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d\u00a0min", int(d.Round(time.Minute)/time.Minute))
	case d < 24*time.Hour:
		d = d.Round(time.Minute)
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%d\u00a0h", h)
		}
		return fmt.Sprintf("%d\u00a0h %02d\u00a0min", h, m)
	default:
		d = d.Round(time.Hour)
		days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
		if h == 0 {
			return fmt.Sprintf("%d\u00a0d", days)
		}
		return fmt.Sprintf("%d\u00a0d %d\u00a0h", days, h)
	}
}

// shortDuration formats a bin bound: "5m", "1h", "24h".
func shortDuration(seconds float64) string {
	d := time.Duration(seconds) * time.Second
	switch {
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	case d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	}
	return strconv.Itoa(int(d/time.Second)) + "s"
}

// date formats a day: "3 ago 2026" or "3 Aug 2026".
func (l *labels) date(t time.Time) string {
	return fmt.Sprintf("%d %s %d", t.Day(), l.Months[t.Month()-1], t.Year())
}

// shortDate formats a day without its year: "3 ago".
func (l *labels) shortDate(t time.Time) string {
	return fmt.Sprintf("%d %s", t.Day(), l.Months[t.Month()-1])
}

// months names a span of calendar months ("2006-01"): "ago 2026", or
// "jul 2026 – ago 2026"; "" when there are none or one is not a month.
func (l *labels) months(ms []string) string {
	var names []string
	for _, m := range ms {
		t, err := time.Parse("2006-01", m)
		if err != nil {
			return ""
		}
		names = append(names, fmt.Sprintf("%s %d", l.Months[t.Month()-1], t.Year()))
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return names[0] + " – " + names[len(names)-1]
}
