package csat

// The languages a word belongs to.
const (
	es = 1 << iota
	en
	both = es | en
)

// langs returns the languages Parse reads for lang: "es" and "en" (with any
// region, "es-MX"), both for anything else.
func langs(lang string) int {
	switch primary(lang) {
	case "es":
		return es
	case "en":
		return en
	}
	return both
}

type entry struct {
	score int // 1–5; for number words, the number
	lang  int
}

// numberWords are the numbers written in letters. uno, una and one are also
// articles and pronouns ("una pregunta", "no one"): they count only alone or
// before stars or a scale ("una estrella", "one out of five").
var numberWords = map[string]entry{
	"cero": {0, es}, "uno": {1, es}, "una": {1, es}, "dos": {2, es}, "tres": {3, es},
	"cuatro": {4, es}, "cinco": {5, es}, "seis": {6, es}, "siete": {7, es},
	"ocho": {8, es}, "nueve": {9, es}, "diez": {10, es}, "cien": {100, es},
	"zero": {0, en}, "one": {1, en}, "two": {2, en}, "three": {3, en}, "four": {4, en},
	"five": {5, en}, "six": {6, en}, "seven": {7, en}, "eight": {8, en}, "nine": {9, en},
	"ten": {10, en}, "hundred": {100, en},
}

var weakNumberWords = map[string]bool{"uno": true, "una": true, "one": true}

// sentiment maps the words and phrases people answer a satisfaction survey
// with to the score of the survey's scale they stand for. The Spanish scale is
// the usual one of five labels, muy mal (1), mal (2), regular (3), bien (4), muy
// bien (5); the English one terrible/very bad (1), bad/poor (2), fine/average
// (3), good (4), very good/great/excellent (5). Fixed negative phrases ("no muy
// bien", "not great", "no está mal") have their own score; any other negated
// word gives none. "Bueno" alone is left out (it is mostly "well, …"), as are
// "ok" and "vale" (an acknowledgement more often than a rating).
var sentiment = map[string]entry{
	// Spanish.
	"excelente": {5, es}, "excelentes": {5, es}, "perfecto": {5, es}, "perfecta": {5, es},
	"perfectos": {5, es}, "genial": {5, es}, "geniales": {5, es}, "estupendo": {5, es},
	"estupenda": {5, es}, "maravilloso": {5, es}, "maravillosa": {5, es}, "fantastico": {5, es},
	"fantastica": {5, es}, "increible": {5, es}, "inmejorable": {5, es}, "buenisimo": {5, es},
	"buenisima": {5, es}, "espectacular": {5, es}, "de diez": {5, es}, "de lujo": {5, es},
	"de maravilla": {5, es}, "muy bien": {5, es}, "muy bueno": {5, es}, "muy buena": {5, es},
	"super bien": {5, es}, "superbien": {5, es}, "muy satisfecho": {5, es}, "muy satisfecha": {5, es},
	"muy contento": {5, es}, "muy contenta": {5, es}, "los mejores": {5, es}, "cracks": {5, es},
	"un crack": {5, es}, "sin queja": {5, es}, "sin quejas": {5, es},

	"bien": {4, es}, "bastante bien": {4, es}, "todo bien": {4, es}, "todo correcto": {4, es},
	"buena atencion": {4, es}, "buen servicio": {4, es}, "buen trabajo": {4, es},
	"satisfecho": {4, es}, "satisfecha": {4, es}, "contento": {4, es}, "contenta": {4, es},
	"nada mal": {4, es},

	"regular": {3, es}, "normal": {3, es}, "normalito": {3, es}, "mas o menos": {3, es},
	"aceptable": {3, es}, "pasable": {3, es}, "mejorable": {3, es}, "ni bien ni mal": {3, es},
	"no esta mal": {3, es}, "meh": {3, both},

	"mal": {2, es}, "malo": {2, es}, "mala": {2, es}, "deficiente": {2, es},
	"insatisfecho": {2, es}, "insatisfecha": {2, es}, "decepcionante": {2, es},
	"decepcionado": {2, es}, "decepcionada": {2, es}, "no muy bien": {2, es},
	"no muy bueno": {2, es}, "no muy buena": {2, es}, "nada bien": {2, es},

	"muy mal": {1, es}, "muy malo": {1, es}, "muy mala": {1, es}, "fatal": {1, es},
	"terrible": {1, both}, "horrible": {1, both}, "pesimo": {1, es}, "pesima": {1, es},
	"malisimo": {1, es}, "malisima": {1, es}, "lamentable": {1, es}, "desastre": {1, es},
	"desastroso": {1, es}, "desastrosa": {1, es}, "verguenza": {1, es}, "vergonzoso": {1, es},
	"nefasto": {1, es}, "nefasta": {1, es}, "penoso": {1, es}, "de pena": {1, es},
	"patetico": {1, es}, "lo peor": {1, es}, "una mierda": {1, es},

	// English.
	"excellent": {5, en}, "perfect": {5, en}, "great": {5, en}, "amazing": {5, en},
	"awesome": {5, en}, "fantastic": {5, en}, "outstanding": {5, en}, "superb": {5, en},
	"brilliant": {5, en}, "wonderful": {5, en}, "exceptional": {5, en}, "flawless": {5, en},
	"very good": {5, en}, "really good": {5, en}, "very well": {5, en}, "the best": {5, en},
	"loved it": {5, en}, "love it": {5, en}, "top notch": {5, en}, "topnotch": {5, en},
	"very satisfied": {5, en}, "very happy": {5, en}, "no complaints": {5, en},

	"good": {4, en}, "pretty good": {4, en}, "quite good": {4, en}, "all good": {4, en},
	"satisfied": {4, en}, "happy": {4, en}, "nice": {4, en},

	"fine": {3, en}, "average": {3, en}, "so so": {3, en}, "soso": {3, en},
	"acceptable": {3, en}, "decent": {3, en}, "not bad": {3, en},

	"bad": {2, en}, "poor": {2, en}, "mediocre": {2, both}, "disappointing": {2, en},
	"disappointed": {2, en}, "unsatisfied": {2, en}, "dissatisfied": {2, en}, "unhappy": {2, en},
	"not good": {2, en}, "not great": {2, en}, "not very good": {2, en},

	"very bad": {1, en}, "very poor": {1, en}, "awful": {1, en}, "horrendous": {1, en},
	"the worst": {1, en}, "worst": {1, en}, "useless": {1, en}, "pathetic": {1, en},
	"disgraceful": {1, en}, "appalling": {1, en}, "atrocious": {1, en}, "abysmal": {1, en},
	"dreadful": {1, en}, "shocking": {1, en}, "a joke": {1, en}, "disaster": {1, en},
	"a disaster": {1, en}, "disgusting": {1, en}, "rubbish": {1, en}, "garbage": {1, en},
}

// maxPhrase is the most words a sentiment phrase has.
const maxPhrase = 4

// emojiScores are the emoji whose sentiment is clear enough to read as an
// answer: love and top marks 5, a smile or a thumbs-up 4, a flat face or a
// shrug 3, a frown or a thumbs-down 2, anger and disgust 1. Emoji that people
// use both ways (😂 🤣 😭 🙏 😅 🔥) are not read.
var emojiScores = map[rune]int{
	'😍': 5, '🥰': 5, '🤩': 5, '😻': 5, '❤': 5, '💖': 5, '💕': 5, '💗': 5, '💓': 5,
	'💞': 5, '💙': 5, '💚': 5, '💛': 5, '🧡': 5, '💜': 5, '💯': 5, '🔝': 5, '🏆': 5,
	'🥇': 5, '🙌': 5,
	'🙂': 4, '😊': 4, '😀': 4, '😃': 4, '😄': 4, '😁': 4, '☺': 4, '👍': 4, '👌': 4, '👏': 4,
	'😐': 3, '😑': 3, '🤷': 3, '😶': 3,
	'🙁': 2, '☹': 2, '😕': 2, '😞': 2, '😒': 2, '👎': 2, '😔': 2, '😟': 2,
	'😡': 1, '😠': 1, '🤬': 1, '💩': 1, '🤮': 1, '🖕': 1,
}

// emoticons are read like the emoji they draw.
var emoticons = map[string]int{
	":)": 4, ":-)": 4, "=)": 4, ":]": 4, ":))": 5, ":d": 5, ":-d": 5, "=d": 5, "<3": 5,
	":|": 3, ":-|": 3, ":/": 3, ":-/": 3,
	":(": 2, ":-(": 2, "=(": 2, ":((": 1, ":'(": 1,
}

// negators negate a score that follows them closely in the same clause.
var negators = map[string]bool{
	"no": true, "ni": true, "nunca": true, "jamas": true, "tampoco": true,
	"not": true, "never": true, "nor": true, "dont": true, "didnt": true, "doesnt": true,
	"isnt": true, "wasnt": true, "werent": true, "arent": true, "wouldnt": true,
	"couldnt": true, "cant": true, "cannot": true, "wont": true, "aint": true,
}

// negationReach is how many tokens before a score a negator still negates it
// ("no fue un 5", "I wouldn't give it a 5").
const negationReach = 4

// strongBefore are the words that make the number after them a rating
// wherever it is: "un 4", "a 4", "nota: 4", "le pongo un 4", "I rate it 4".
var strongBefore = map[string]int{
	"un": es, "una": es, "nota": es, "puntuacion": es, "puntuo": es, "pongo": es,
	"doy": es, "damos": es, "calificacion": es, "valoracion": es, "valoro": es,
	"a": en, "rate": en, "rating": en, "score": en, "give": en,
}

// before are the words after which a number is not a rating: times, flight,
// gate and seat numbers, durations, references.
var before = wordSet(
	"las", "los", "el", "la", "del", "al", "at", "on", "vuelo", "flight", "puerta", "gate",
	"fila", "row", "asiento", "seat", "terminal", "numero", "num", "number", "hace", "llevo",
	"llevamos", "lleva", "llevan", "desde", "durante", "for", "after", "hasta", "until",
	"since", "unos", "unas", "around", "about", "aprox", "pedido", "order", "reserva",
	"booking", "caso", "case", "ticket", "planta", "piso", "floor", "version", "ultimos",
	"ultimas", "last", "past", "next", "proximos", "proximas", "sala", "mostrador", "cinta",
	"belt", "carousel", "linea", "line", "ruta", "route", "tras", "cada", "every", "than",
	"within", "dentro", "mas", "more", "menos", "less",
)

// units are the words and symbols after which a number is a quantity, a date or
// a price, not a rating ("3 días", "5 de mayo", "2 maletas", "10€").
var units = wordSet(
	"dias", "dia", "horas", "hora", "h", "hs", "hr", "hrs", "minutos", "minuto", "min", "mins",
	"segundos", "seg", "semanas", "semana", "meses", "mes", "anos", "ano", "euros", "euro",
	"eur", "dolares", "dolar", "usd", "libras", "pounds", "dollars", "bucks", "veces", "vez",
	"times", "days", "day", "hours", "hour", "minutes", "minute", "weeks", "week", "months",
	"month", "years", "year", "yrs", "am", "pm", "maletas", "maleta", "bags", "bag", "bultos",
	"personas", "persona", "people", "pasajeros", "passengers", "ninos", "kids", "kg", "kilos",
	"km", "vuelos", "flights", "llamadas", "calls", "correos", "emails", "mensajes", "messages",
	"tweets", "dm", "dms", "intentos", "attempts", "tries", "noches", "nights", "asientos",
	"seats", "billetes", "tickets", "mil", "k", "millones", "million", "percent",
	"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
	"setiembre", "octubre", "noviembre", "diciembre", "january", "february", "march",
	"april", "may", "june", "july", "august", "september", "october", "november", "december",
	"%", "€", "$", "£",
)

// starWords are stars written out.
var starWords = wordSet("estrella", "estrellas", "estrellita", "estrellitas", "star", "stars")

// rangeWords join the two ends of a range: "del 1 al 5", "from 1 to 5", "3 o 4".
var rangeWords = wordSet("a", "al", "y", "o", "hasta", "to", "and", "or", "-", "–")

// scales are the scales a rating may be given on: "4/5", "8 de 10", "90/100".
var scales = map[int]bool{5: true, 10: true, 100: true}

// Opting out.

// stopMessages are whole messages that ask to stop (SMS-style keywords).
var stopMessages = wordSet(
	"stop", "stop please", "please stop", "stop it", "stop all", "unsubscribe", "optout",
	"opt out", "baja", "basta", "basta ya", "para ya", "parad ya", "parad", "ya basta",
)

// stopPhrases ask to stop wherever they are.
var stopPhrases = wordSet(
	"unsubscribe", "optout", "opt out", "darme de baja", "dadme de baja", "dame de baja",
	"me doy de baja", "quiero la baja", "remove me", "stop messaging me", "stop texting me",
	"stop sending", "stop sending me", "leave me alone", "deja de escribirme",
	"dejad de escribirme", "dejen de escribirme", "no me escribais mas", "no me escribas mas",
	"dejadme en paz", "dejame en paz",
)

// surveyWords name the survey.
var surveyWords = wordSet(
	"encuesta", "encuestas", "encuestita", "encuestitas", "cuestionario", "cuestionarios",
	"survey", "surveys", "questionnaire", "questionnaires",
)

// stopCues, in a sentence that names the survey, make it a refusal or a
// complaint: "no más encuestas", "basta de encuestas", "otra encuesta?",
// "don't send me surveys", "I hate surveys".
var stopCues = wordSet(
	"no", "basta", "stop", "deja", "dejad", "dejen", "deje", "dejar", "dejes", "para", "parad",
	"paren", "mas", "otra", "otras", "odio", "harto", "harta", "hartos", "hartas", "cansado",
	"cansada", "cansados", "cansa", "pesados", "pesadas", "pesado", "pesada", "spam", "dont",
	"ningun", "ninguna", "sin", "enough", "another", "more", "hate", "tired", "sick", "quit",
	"annoying", "molesteis", "molesten", "molestar",
)

// stopReach is how far from the survey word a cue may be.
const stopReach = 6

func wordSet(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}
