package classify

import (
	"testing"
)

// benchTweets is a mixed Spanish/English set written for the benchmark: the
// shapes care teams see (mentions, links, emoji, hashtags, PII, long and short).
var benchTweets = []Input{
	{Text: "@PajaritoAir llevo dos horas esperando en el aeropuerto y nadie contesta 😡 #nuncamas", Lang: "es"},
	{Text: "@PajaritoAir thanks for the quick rebooking, the crew at gate B12 were amazing! 🙏", Lang: "en"},
	{Text: "@PajaritoAir genial, otra vez retrasado el PJ2471... gracias por nada", Lang: "es"},
	{Text: "@PajaritoAir how much for a group booking of 25 people to Lisbon in May?", Lang: "en"},
	{Text: "@PajaritoAir mi localizador es X7K2PQ y mi email ana.garcia@example.com, ¿me ayudáis?", Lang: "es"},
	{Text: "@PajaritoAir great job losing my bag AGAIN. Still no refund after 3 weeks. Unacceptable!!!", Lang: "en"},
	{Text: "¿Tenéis tarifa para empresas? Somos una pyme de 40 personas que vuela cada semana a Bilbao", Lang: ""},
	{Text: "@PajaritoAir 😍😍 best flight ever, thank youuuu", Lang: "en"},
	{Text: "Gana dinero con bitcoin 💰💰 sígueme y te sigo https://t.co/abc123", Lang: "es"},
	{Text: "@PajaritoAir my flight got cancelled and I'm stranded in Chicago with my 2 year old, no hotel, please help", Lang: "en"},
	{Text: "@PajaritoAir la app no funciona desde esta mañana, me da error al pagar con la tarjeta 4111 1111 1111 1111", Lang: "es"},
	{Text: "@PajaritoAir ok", Lang: "und"},
	{Text: "@PajaritoAir Hola, ¿a qué hora abre el mostrador de facturación en la T4? Gracias", Lang: "es"},
	{Text: "@PajaritoAir I've been on hold for 45 minutes. No one is answering. Thanks for nothing. #fail", Lang: "en"},
	{Text: "@PajaritoAir si no me devolvéis el dinero hablaré con mi abogado y con FACUA", Lang: "es"},
	{Text: "RT @someone: Pajarito Air lanza nuevas rutas a Lisboa y Oporto este verano https://t.co/xyz", Lang: "es"},
	{Text: "@PajaritoAir not happy at all, the seat was broken and the staff were rude :(", Lang: "en"},
	{Text: "@PajaritoAir NOOOOO mi maleta no ha llegado, es la tercera vez!!!", Lang: "es"},
	{Text: "@PajaritoAir call me at +1 (555) 123-4567 about confirmation ABC123", Lang: "en"},
	{Text: "@PajaritoAir Muchas gracias por la atención de vuestro equipo en Barajas, sois unos cracks 👏👏", Lang: "es"},
}

func BenchmarkClassify(b *testing.B) {
	c := Default()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Classify(benchTweets[i%len(benchTweets)])
	}
}

func BenchmarkClassifyParallel(b *testing.B) {
	c := Default()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			c.Classify(benchTweets[i%len(benchTweets)])
			i++
		}
	})
}
