"""The service's own English word lists, on for every site unless its policy turns them off.

They hold back what a moderator must see whatever the model says: slurs, abuse aimed at a
person, urging someone to kill themselves, threats. Everyday profanity and insults ("fuck",
"shit", "bitch", "idiot", "retarded") are left to the model's scores: bench/wordlists.py found
each of them in dozens of comments people labelled clean ("fucking awesome"), far past the
0.1% of clean comments these lists may hit. Words with an innocent sense are left out or listed
only in forms that have none: "gook" (gobbledygook), "tranny" (a gearbox), "fags" (cigarettes),
"coon" (a Maine coon), "chinks" (in the armour), "beaner", "dyke"; "nigga" is left out too, since
holding every comment in African-American English is a bias, not a safeguard.
Entries are written plainly; the matcher sees through l33t, spacing and repeated letters.
"""

from __future__ import annotations

# Reject: slurs with no innocent use, and telling someone to kill themselves.
BUILTIN_BANNED: tuple[str, ...] = (
    "nigger*",
    "sandnigger*",
    "kike",
    "kikes",
    "wetback*",
    "raghead*",
    "towelhead*",
    "zipperhead*",
    "porch monkey*",
    "jungle bunny",
    "jungle bunnies",
    "go kill yourself",
    "kys",
    "neck yourself",
)

# Hold for a moderator: slurs with a rare innocent use, the strongest abuse, sexual insults,
# threats and self-harm phrases that may be quoted ("How to skateboard and not kill yourself").
BUILTIN_SUSPECT: tuple[str, ...] = (
    # slurs and dehumanising words
    "faggot*",
    "spic",
    "spics",
    "shemale*",
    "subhuman*",
    "untermensch*",
    # abuse aimed at a person
    "cunt*",
    "motherfuck*",
    "muthafuck*",
    "mothafuck*",
    "cocksucker*",
    "cock sucker*",
    "dickhead*",
    "dickwad*",
    "wanker*",
    "shithead*",
    "shitstain*",
    "arsehole*",
    "dipshit*",
    "piece of shit",
    "son of a bitch",
    "stupid bitch",
    "dumb bitch",
    "fucking idiot*",
    "fucking moron*",
    "fucking retard*",
    "go fuck yourself",
    "fuck yourself",
    "shut the fuck up",
    "suck my dick",
    "kiss my ass",
    # sexual insults
    "slut",
    "sluts",
    "slutty",
    "skank*",
    # self-harm and threats
    "kill yourself",
    "kill yourselves",
    "kill urself",
    "kill ur self",
    "hang yourself",
    "go die in a fire",
    "i will kill you",
    "ill kill you",
    "i'll kill you",
    "gonna kill you",
    "going to kill you",
    "i will find you",
    "you deserve to die",
    "hope you die",
    "should be shot",
    "should be hanged",
)
