"""Short comments in eleven languages, written for this project (not taken from any corpus).

A news site's comment section in miniature: for each language, four comments in each length
bucket (up to 20 characters, 21-50, 51-100, over 100), a mix of civil remarks and insults,
because an insult in another language is what the language policy is for. English comes from
the shared labelled data (real comments), so it is not repeated here.
"""

from __future__ import annotations

# Length buckets, by characters of the comment: (name, smallest, largest).
BUCKETS = (("<=20", 0, 20), ("21-50", 21, 50), ("51-100", 51, 100), (">100", 101, 10**9))


def bucket_of(text: str) -> str:
    """The name of the length bucket a comment falls in."""
    return next(name for name, low, high in BUCKETS if low <= len(text) <= high)


SAMPLES: dict[str, list[str]] = {
    "de": [
        "So ein Schwachsinn!",
        "Du bist ein Idiot.",
        "Völlig richtig.",
        "Halt die Klappe!",
        "Der Autor hat keine Ahnung vom Thema.",
        "Was für ein dummer Kommentar, ehrlich.",
        "Danke für den guten Artikel!",
        "Die Regierung sollte endlich handeln.",
        "Ich wohne seit zwanzig Jahren in der Stadt und habe so etwas noch nie erlebt.",
        "Wer so einen Mist schreibt, sollte sich schämen. Einfach nur peinlich.",
        "Die Preise für Wohnungen sind für normale Familien unbezahlbar.",
        "Du bist so ein erbärmlicher Vollidiot, geh doch zurück in dein Loch.",
        "Ich verstehe nicht, warum die Stadtverwaltung die Busverbindung gestrichen hat. Viele "
        "ältere Menschen sind darauf angewiesen und haben kein Auto.",
        "Schon wieder ein Artikel, der nur eine Seite zeigt. Habt ihr überhaupt mit den Anwohnern "
        "gesprochen, bevor ihr das veröffentlicht habt?",
        "Leute wie du sind der Grund, warum dieses Land vor die Hunde geht. Dumm, faul und trotzdem "
        "die große Klappe. Verschwinde einfach.",
        "Gute Zusammenfassung. Man hätte vielleicht noch erwähnen können, dass der Gemeinderat "
        "schon letztes Jahr darüber abgestimmt hat.",
    ],
    "fr": [
        "Quel imbécile !",
        "Tout à fait.",
        "Ferme ta gueule.",
        "Merci pour l'article",
        "Encore un article sans aucun intérêt.",
        "Le maire n'a rien fait depuis trois ans.",
        "T'es vraiment un pauvre con, toi.",
        "Je ne comprends pas cette décision.",
        "Les prix de l'essence ont encore augmenté, comment on fait pour aller travailler ?",
        "Franchement, il faut être complètement débile pour croire à ces histoires.",
        "Très bon reportage, on aimerait en voir plus souvent sur ce sujet.",
        "Ce journaliste est une honte, il raconte n'importe quoi à chaque fois.",
        "J'habite dans ce quartier depuis quinze ans et la situation n'a jamais été aussi mauvaise. "
        "Personne ne nous écoute à la mairie.",
        "Vous êtes tous des abrutis finis. Allez donc vivre ailleurs si vous n'êtes pas contents, "
        "personne ne vous retiendra.",
        "Il serait utile de préciser d'où viennent ces chiffres, parce que ceux de l'Insee donnent "
        "une image assez différente de la situation.",
        "Mon fils est dans cette école et les enseignants font un travail formidable malgré le "
        "manque de moyens. Un peu de respect pour eux.",
    ],
    "es": [
        "¡Qué vergüenza!",
        "Eres un idiota.",
        "Muy buen artículo.",
        "Cállate, payaso.",
        "El gobierno no sabe lo que está haciendo.",
        "Gracias por informar sobre este tema.",
        "Hay que ser tonto para creerse esto.",
        "¿Y quién va a pagar todo esto?",
        "Llevo diez años viviendo en este barrio y nunca había visto tanta suciedad en las calles.",
        "Eres un imbécil y un cobarde, escondido detrás de tu pantalla.",
        "La noticia no menciona que el alcalde ya prometió lo mismo hace dos años.",
        "Los precios del alquiler están por las nubes y los sueldos no suben.",
        "No entiendo por qué siempre se publican noticias así sin contrastar. Deberían hablar con "
        "los vecinos antes de sacar conclusiones tan rápidas.",
        "Gente como tú es la que arruina este país. Sois unos ignorantes y unos vagos, y encima os "
        "quejáis de todo sin hacer nada.",
        "Mi madre trabajó en ese hospital durante treinta años y siempre dijo que faltaba personal. "
        "Me alegra que por fin se hable de ello.",
        "Sería interesante saber cuántas personas usan realmente el nuevo carril bici antes de "
        "gastar más dinero público en ampliarlo.",
    ],
    "it": [
        "Che schifo!",
        "Sei un cretino.",
        "Ottimo articolo.",
        "Ma stai zitto!",
        "Questo governo non ne azzecca una.",
        "Grazie per aver scritto di questo.",
        "Solo un idiota può pensarla così.",
        "Quando riapriranno la strada?",
        "Abito in questa città da trent'anni e non ho mai visto il centro così abbandonato.",
        "Il giornalista dovrebbe vergognarsi, scrive solo stupidaggini ogni giorno.",
        "Bella iniziativa, speriamo che la ripetano anche l'anno prossimo.",
        "Sei proprio un povero deficiente, torna a giocare con i tuoi amici.",
        "Non capisco perché il comune abbia deciso di chiudere la biblioteca proprio adesso, quando "
        "tanti ragazzi la usano per studiare ogni pomeriggio.",
        "Siete una massa di ignoranti e non avete nemmeno il coraggio di firmarvi con il vostro "
        "nome. Fate pena, davvero.",
        "Sarebbe utile sapere quanto è costato il progetto finora e chi ha deciso di affidarlo a "
        "quella ditta senza una gara pubblica.",
        "Mia nonna vive da sola in quel paese e senza l'autobus non può nemmeno andare dal medico. "
        "Spero che qualcuno ascolti.",
    ],
    "pt": [
        "Que vergonha!",
        "Você é um idiota.",
        "Ótima reportagem.",
        "Cala a boca!",
        "O governo não sabe o que está fazendo.",
        "Obrigado por trazer esse assunto.",
        "Só um burro acredita nessa história.",
        "Quem vai pagar essa conta no final?",
        "Moro neste bairro há vinte anos e nunca vi as ruas tão sujas como agora.",
        "Você é um imbecil e um covarde, escondido atrás do computador.",
        "A matéria esquece de dizer que o prefeito prometeu a mesma coisa no ano passado.",
        "Os preços dos aluguéis estão absurdos e os salários continuam iguais.",
        "Não entendo por que a prefeitura fechou o posto de saúde. Muitos idosos dependem dele e "
        "agora precisam pegar dois ônibus para serem atendidos.",
        "Gente como você é o motivo de este país não ir pra frente. Ignorantes, preguiçosos e ainda "
        "reclamam de tudo o tempo todo.",
        "Seria bom saber de onde vêm esses números, porque os dados oficiais mostram uma realidade "
        "bem diferente da que foi descrita aqui.",
        "Minha filha estuda nessa escola e os professores fazem um trabalho incrível mesmo sem "
        "recursos. Merecem mais respeito.",
    ],
    "nl": [
        "Wat een onzin!",
        "Je bent een idioot.",
        "Goed artikel, dank.",
        "Hou je bek!",
        "De gemeente doet weer helemaal niets.",
        "Bedankt voor dit heldere stuk.",
        "Alleen een sukkel gelooft dit verhaal.",
        "Wie gaat dat allemaal betalen?",
        "Ik woon al twintig jaar in deze wijk en het is nog nooit zo slecht geweest.",
        "Wat ben jij een zielige kneus, ga lekker ergens anders zeuren.",
        "Het artikel vergeet te melden dat de wethouder dit vorig jaar al beloofde.",
        "De huurprijzen zijn niet meer op te brengen voor gewone gezinnen.",
        "Ik snap niet waarom de bibliotheek in ons dorp dicht moet. Veel ouderen en kinderen komen "
        "daar elke week en er is verder niets in de buurt.",
        "Mensen zoals jij zijn de reden dat dit land naar de knoppen gaat. Dom, lui en altijd maar "
        "klagen over alles en iedereen.",
        "Het zou goed zijn om te vermelden waar deze cijfers vandaan komen, want het CBS laat een "
        "heel ander beeld zien van de situatie.",
        "Mijn zoon zit op deze school en de leraren doen ontzettend hun best ondanks alle tekorten. "
        "Een beetje respect is wel op zijn plaats.",
    ],
    "pl": [
        "Co za bzdury!",
        "Jesteś idiotą.",
        "Świetny artykuł.",
        "Zamknij się!",
        "Rząd znowu nic nie robi w tej sprawie.",
        "Dziękuję za ten rzetelny tekst.",
        "Tylko głupek może w to uwierzyć.",
        "Kto za to wszystko zapłaci?",
        "Mieszkam na tym osiedlu od dwudziestu lat i nigdy nie było tak źle jak teraz.",
        "Jesteś żałosnym tchórzem, który chowa się za ekranem komputera.",
        "Autor zapomniał wspomnieć, że burmistrz obiecywał to samo rok temu.",
        "Ceny mieszkań są już poza zasięgiem zwykłych rodzin z dziećmi.",
        "Nie rozumiem, dlaczego gmina zamknęła przychodnię. Wielu starszych ludzi nie ma samochodu "
        "i teraz musi jeździć dwoma autobusami do lekarza.",
        "Tacy ludzie jak ty niszczą ten kraj. Głupi, leniwi i ciągle tylko narzekacie na wszystko, "
        "zamiast wziąć się do roboty.",
        "Warto byłoby podać źródło tych danych, bo oficjalne statystyki pokazują zupełnie inny "
        "obraz sytuacji w naszym mieście.",
        "Moja córka chodzi do tej szkoły i nauczyciele robią wszystko, co mogą, mimo braków. "
        "Należy im się trochę szacunku.",
    ],
    "sv": [
        "Vilket trams!",
        "Du är en idiot.",
        "Bra skrivet, tack.",
        "Håll käften!",
        "Kommunen gör som vanligt ingenting.",
        "Tack för en bra och tydlig artikel.",
        "Bara en dumskalle tror på sånt.",
        "Vem ska betala för allt det här?",
        "Jag har bott i det här området i tjugo år och aldrig sett det så här illa.",
        "Du är en patetisk fegis som gömmer dig bakom tangentbordet.",
        "Artikeln glömmer att nämna att politikerna lovade samma sak förra året.",
        "Hyrorna har blivit omöjliga för vanliga barnfamiljer att klara.",
        "Jag förstår inte varför biblioteket i vår by måste stänga. Många äldre och barn går dit "
        "varje vecka och det finns inget annat i närheten.",
        "Folk som du är anledningen till att det här landet går åt skogen. Korkade, lata och klagar "
        "jämt på allt och alla.",
        "Det vore bra att veta var siffrorna kommer ifrån, eftersom SCB visar en helt annan bild av "
        "läget i kommunen.",
        "Min son går på den skolan och lärarna gör ett fantastiskt jobb trots alla nedskärningar. "
        "Lite respekt vore på sin plats.",
    ],
    "da": [
        "Sikke noget vrøvl!",
        "Du er en idiot.",
        "God artikel, tak.",
        "Hold din kæft!",
        "Kommunen gør som sædvanlig ingenting.",
        "Tak for en god og grundig artikel.",
        "Kun en tåbe tror på sådan noget.",
        "Hvem skal betale for det hele?",
        "Jeg har boet i dette kvarter i tyve år og aldrig set det så slemt som nu.",
        "Du er en ynkelig kujon, der gemmer sig bag skærmen hele dagen.",
        "Artiklen glemmer at nævne, at borgmesteren lovede det samme sidste år.",
        "Huslejen er blevet umulig at betale for almindelige børnefamilier.",
        "Jeg forstår ikke, hvorfor biblioteket i vores by skal lukke. Mange ældre og børn kommer "
        "der hver uge, og der er intet andet i nærheden.",
        "Folk som dig er grunden til, at det her land går ad helvede til. Dumme, dovne og brokker "
        "sig altid over alt og alle.",
        "Det ville være godt at vide, hvor tallene kommer fra, for Danmarks Statistik viser et helt "
        "andet billede af situationen.",
        "Min datter går på den skole, og lærerne gør et fantastisk stykke arbejde trods alle "
        "nedskæringer. Vis dem lidt respekt.",
    ],
    "tr": [
        "Ne saçmalık!",
        "Sen bir aptalsın.",
        "Çok güzel haber.",
        "Kes sesini!",
        "Belediye yine hiçbir şey yapmıyor.",
        "Bu güzel yazı için teşekkürler.",
        "Buna ancak bir salak inanır.",
        "Bütün bunları kim ödeyecek?",
        "Yirmi yıldır bu mahallede oturuyorum ve hiç bu kadar kötü görmemiştim.",
        "Sen ekranın arkasına saklanan zavallı bir korkaksın, utanmalısın.",
        "Haber, başkanın geçen yıl da aynı sözü verdiğini söylemeyi unutmuş.",
        "Kira fiyatları sıradan aileler için artık ödenemeyecek seviyede.",
        "Belediyenin sağlık ocağını neden kapattığını anlamıyorum. Birçok yaşlının arabası yok ve "
        "şimdi doktora gitmek için iki otobüs değiştirmeleri gerekiyor.",
        "Senin gibi insanlar bu ülkenin geri kalmasının sebebi. Cahil, tembel ve her şeyden sürekli "
        "şikayet eden tipler.",
        "Bu rakamların nereden geldiğini belirtmek iyi olurdu, çünkü resmi istatistikler durumun "
        "bambaşka olduğunu gösteriyor.",
        "Kızım bu okulda okuyor ve öğretmenler imkansızlıklara rağmen harika bir iş çıkarıyor. "
        "Biraz saygıyı hak ediyorlar.",
    ],
    "ru": [
        "Какая чушь!",
        "Ты идиот.",
        "Отличная статья.",
        "Заткнись уже!",
        "Власти опять ничего не делают.",
        "Спасибо за честный материал.",
        "Только дурак в это поверит.",
        "А кто за всё это заплатит?",
        "Живу в этом районе двадцать лет и никогда не видел такого беспорядка.",
        "Ты жалкий трус, который прячется за экраном компьютера.",
        "Автор забыл упомянуть, что мэр обещал то же самое в прошлом году.",
        "Цены на квартиры стали недоступны для обычных семей с детьми.",
        "Не понимаю, почему закрыли поликлинику. У многих пожилых людей нет машины, и теперь им "
        "приходится ехать к врачу на двух автобусах.",
        "Такие, как ты, и губят эту страну. Тупые, ленивые и вечно всем недовольные, вместо того "
        "чтобы хоть что-то сделать.",
        "Хорошо бы указать источник этих цифр, потому что официальная статистика показывает совсем "
        "другую картину.",
        "Моя дочь учится в этой школе, и учителя делают всё возможное, несмотря на нехватку денег. "
        "Имейте уважение.",
    ],
}

# Texts too short or too mixed to tell a language from: the detector should say None.
AMBIGUOUS = ("ok", "lol", "+1", "👍👍", "!!!", "Bravo!", "Taxi", "100%", "http://example.com", "Hahaha 😂")
