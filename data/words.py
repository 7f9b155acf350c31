"""Word lists the generator combines into people, companies and titles."""

FIRST_NAMES = (
    "Aaliyah", "Abdul", "Ada", "Adrian", "Aisha", "Alejandro", "Alex", "Amara", "Amir", "Ana",
    "Andre", "Anika", "Arjun", "Astrid", "Beatriz", "Ben", "Bianca", "Bilal", "Carla", "Carlos",
    "Chen", "Chiara", "Chloe", "Daniel", "Dario", "Divya", "Eamon", "Ebony", "Elif", "Emeka",
    "Emma", "Erik", "Fatima", "Felix", "Freya", "Gabriel", "Greta", "Hana", "Hugo", "Ines",
    "Ivan", "Jamal", "Jana", "Javier", "Jin", "Joao", "Julia", "Kai", "Karim", "Keiko",
    "Kofi", "Lars", "Layla", "Leila", "Lucas", "Lucia", "Mads", "Malik", "Mariana", "Mateo",
    "Mei", "Mina", "Nadia", "Naveen", "Nia", "Nikolai", "Nora", "Olga", "Oscar", "Pablo",
    "Paula", "Rafael", "Rania", "Ravi", "Rosa", "Sana", "Sebastian", "Shira", "Siddharth", "Sione",
    "Stefan", "Tariq", "Tessa", "Theo", "Tomas", "Valentina", "Vikram", "Wei", "Yara", "Yusuf",
    "Zainab", "Zoe",
)  # fmt: skip

LAST_NAMES = (
    "Abara", "Acosta", "Andersen", "Bauer", "Bianchi", "Brennan", "Campbell", "Castillo", "Dang",
    "Delgado", "Dubois", "Eriksen", "Ferreira", "Fitzgerald", "Fong", "Garcia", "Gupta", "Haddad",
    "Hansen", "Herrera", "Holm", "Ibrahim", "Iyer", "Jansen", "Kapoor", "Keller", "Khan", "Kowal",
    "Larsen", "Lindqvist", "Lopez", "Mahlangu", "Marino", "Mendes", "Mensah", "Meyer", "Moreau",
    "Mukherjee", "Murphy", "Nakamura", "Ndlovu", "Nguyen", "Nilsson", "Novak", "Obi", "Okonkwo",
    "Olsen", "Ortiz", "Park", "Pereira", "Petrov", "Quinn", "Ramos", "Reyes", "Ricci", "Romero",
    "Sato", "Schmidt", "Shah", "Silva", "Singh", "Sorensen", "Suzuki", "Tanaka", "Torres", "Tran",
    "Vargas", "Varga", "Vogel", "Wagner", "Walsh", "Weber", "Yamamoto", "Yilmaz", "Zhang", "Zimmer",
)  # fmt: skip

# Compound company names: a prefix glued to a root ("North" + "wind"), then an industry suffix.
NAME_PREFIXES = (
    "Alder", "Amber", "Arrow", "Aspen", "Bay", "Birch", "Black", "Blue", "Bright", "Broad", "Cedar",
    "Clear", "Cobalt", "Copper", "Coral", "Crest", "Crystal", "Deep", "East", "Elm", "Ever", "Fair",
    "Fern", "Fox", "Glen", "Gold", "Granite", "Green", "Harbor", "Hazel", "High", "Iron", "Ivy",
    "Juniper", "Lake", "Lark", "Linden", "Maple", "Meadow", "Mill", "Moss", "North", "Oak", "Ocean",
    "Orchard", "Pine", "Quarry", "Rain", "Raven", "Red", "River", "Rock", "Sage", "Silver", "Sky",
    "Snow", "South", "Spruce", "Star", "Stone", "Storm", "Summit", "Sun", "Swift", "Tide", "True",
    "West", "Willow", "Wolf",
)  # fmt: skip
NAME_ROOTS = (
    "bank", "bridge", "brook", "crest", "dale", "field", "ford", "gate", "grove", "haven", "hill",
    "hurst", "land", "light", "line", "mark", "mere", "mont", "point", "port", "ridge", "shore",
    "side", "spring", "stead", "stone", "vale", "view", "water", "way", "well", "wick", "wind",
    "wood", "worth",
)  # fmt: skip

CONTACT_TITLES = (
    "VP of Operations", "Head of Customer Support", "Director of IT", "Chief Operating Officer",
    "Operations Manager", "Head of Digital Transformation", "Director of Finance",
    "Support Team Lead", "Program Manager", "Head of Business Systems", "VP of Customer Experience",
    "Process Excellence Lead", "Chief Technology Officer", "Service Delivery Manager",
)  # fmt: skip
