/**
 * The seeded generator: a neighbourhood's history (members, posts with French titles and texts,
 * comments, status changes), the same for every run with the same seed, and builders that turn it
 * into the app's documents (a neighbourhood document and one feed per member, as client/stores/commands.ts
 * writes them) or into the Yjs baseline (one Y.Doc, posts in a Y.Map).
 *
 * A board is split in two: `base` (what a device already has) and `delta` (what it must catch up on:
 * the last 10 % of the posts plus a number of edits on recent posts).
 */
import { gzipSync } from 'node:zlib'
import * as A from '@automerge/automerge'
import { stringifyAutomergeUrl, type BinaryDocumentId } from '@automerge/automerge-repo'
import * as Y from 'yjs'
import { ed25519 } from '@noble/curves/ed25519.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { utf8 } from '@scure/base'
import { encodeKey, memberIdFor, type MemberKeys } from '../shared/identity.ts'
import { changeSigned } from '../shared/signed-changes.ts'
import { CATEGORIES, WRITABLE_KINDS, type Category, type PostKind } from '../shared/domain.ts'
import type { CommentId, DocUrl, MemberId, PostId } from '../shared/ids.ts'
import { newFeed, newPost, type FeedDoc, type PostRecord } from '../shared/schema/feed.ts'
import { newNeighbourhood, type NeighbourhoodDoc } from '../shared/schema/neighbourhood.ts'
import { immutable, storedComment, storedPost } from '../shared/schema/stored.ts'

// ---------------------------------------------------------------------------------------------------
// Seeded randomness

/** sfc32, seeded from a string through xmur3: small, fast and good enough for test data. */
export class Rng {
  #a: number
  #b: number
  #c: number
  #d: number
  constructor(seed: string) {
    let h = 1779033703 ^ seed.length
    for (let i = 0; i < seed.length; i++) {
      h = Math.imul(h ^ seed.charCodeAt(i), 3432918353)
      h = (h << 13) | (h >>> 19)
    }
    const next = () => {
      h = Math.imul(h ^ (h >>> 16), 2246822507)
      h = Math.imul(h ^ (h >>> 13), 3266489909)
      return (h ^= h >>> 16) >>> 0
    }
    this.#a = next()
    this.#b = next()
    this.#c = next()
    this.#d = next()
    for (let i = 0; i < 12; i++) this.float()
  }
  /** Uniform in [0, 1). */
  float(): number {
    this.#a >>>= 0
    this.#b >>>= 0
    this.#c >>>= 0
    this.#d >>>= 0
    let t = (this.#a + this.#b) | 0
    this.#a = this.#b ^ (this.#b >>> 9)
    this.#b = (this.#c + (this.#c << 3)) | 0
    this.#c = (this.#c << 21) | (this.#c >>> 11)
    this.#d = (this.#d + 1) | 0
    t = (t + this.#d) | 0
    this.#c = (this.#c + t) | 0
    return (t >>> 0) / 4294967296
  }
  int(maxExclusive: number): number {
    return Math.floor(this.float() * maxExclusive)
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T
  }
  chance(p: number): boolean {
    return this.float() < p
  }
  /** Exponentially distributed with the given mean. */
  exp(mean: number): number {
    return -Math.log(1 - this.float()) * mean
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = this.int(256)
    return out
  }
  /** An ID in the app's format (shared/ids.ts): a one-letter prefix and 22 base58 characters. */
  id(prefix: string): string {
    let out = prefix
    for (let i = 0; i < 22; i++) out += BASE58[this.int(58)]
    return out
  }
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

// ---------------------------------------------------------------------------------------------------
// French words

const FIRST_NAMES = [
  'Jeanne', 'Marie', 'Louise', 'Camille', 'Léa', 'Manon', 'Chloé', 'Inès', 'Sarah', 'Emma', 'Zoé', 'Lucie',
  'Nathalie', 'Isabelle', 'Sylvie', 'Catherine', 'Monique', 'Françoise', 'Martine', 'Christine', 'Odile',
  'Fatima', 'Aïcha', 'Yasmine', 'Nadia', 'Amina', 'Sophie', 'Claire', 'Hélène', 'Agnès', 'Brigitte',
  'Jean', 'Pierre', 'Michel', 'André', 'Philippe', 'Alain', 'Bernard', 'Jacques', 'Patrick', 'Daniel',
  'Karim', 'Mehdi', 'Youssef', 'Rachid', 'Lucas', 'Hugo', 'Louis', 'Gabriel', 'Arthur', 'Jules', 'Théo',
  'Paul', 'Nicolas', 'Julien', 'Thomas', 'Maxime', 'Antoine', 'Olivier', 'Christophe', 'Gérard', 'René',
]
const INITIALS = 'ABCDEFGHIJKLMNOPRSTVW'
const STREETS = [
  'rue des Tilleuls', 'rue de la Mairie', 'chemin du Moulin', 'impasse des Lilas', 'place de l’Église',
  'rue du Stade', 'allée des Peupliers', 'route de Bourg', 'rue Pasteur', 'rue Victor-Hugo', 'quai de la Saône',
  'lotissement Les Vignes', 'rue des Écoles', 'avenue de la Gare',
]
const TOWNS = ['Bourg-en-Bresse', 'Mâcon', 'Villefranche', 'Lyon', 'Châtillon-sur-Chalaronne', 'Trévoux', 'Belleville', 'Pont-de-Veyle']
const DAYS = ['lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi', 'dimanche', 'demain', 'ce week-end', 'samedi matin', 'mardi après-midi']
const SHOPS = ['Intermarché', 'Leclerc', 'la Biocoop', 'Super U', 'la boulangerie Martin', 'la pharmacie du centre', 'Lidl']
const PETS = ['Vanille', 'Réglisse', 'Caramel', 'Filou', 'Moka', 'Plume', 'Tigrou', 'Noisette']
const MONTHS = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre']

interface Template {
  kind: PostKind
  category: Category
  titles: readonly string[]
  bodies: readonly string[]
}

const TEMPLATES: readonly Template[] = [
  {
    kind: 'request',
    category: 'lifts',
    titles: ['Besoin d’un covoiturage pour le marché de {day}', 'Quelqu’un va à {town} {day} ?', 'Cherche une voiture pour l’hôpital de {town}', 'Aller à la gare de {town} tôt le matin'],
    bodies: ['Ma voiture est au garage jusqu’à la fin du mois.', 'Je peux participer à l’essence, bien sûr.', 'Rendez-vous chez le kiné à 10 h 30, retour vers midi.', 'Je n’ai pas le permis et le car ne passe plus le {day}.'],
  },
  {
    kind: 'offer',
    category: 'lifts',
    titles: ['Je descends à {town} {day}, deux places libres', 'Covoiturage tous les matins vers {town}', 'Je vais au marché {day}, qui veut venir ?'],
    bodies: ['Départ vers 8 h 15 devant la boulangerie.', 'Je rentre en fin d’après-midi, vers 17 h.', 'Le coffre est grand, vous pouvez prendre vos courses.'],
  },
  {
    kind: 'lend',
    category: 'diy',
    titles: ['Je prête ma perceuse', 'Je prête mon échelle de 3 mètres', 'Scie sauteuse à prêter', 'Je prête ma ponceuse et des disques', 'Nettoyeur haute pression à prêter'],
    bodies: ['Elle est au garage, passez la chercher le soir.', 'Merci de me la rendre dans la semaine.', 'Avec les forets béton et bois.', 'Il faut juste racheter les disques si vous les usez.'],
  },
  {
    kind: 'request',
    category: 'diy',
    titles: ['Besoin d’un coup de main pour monter une armoire', 'Quelqu’un aurait une ponceuse ?', 'Fuite sous l’évier, un conseil ?', 'Aide pour changer une prise électrique'],
    bodies: ['C’est un meuble en kit, deux heures à deux ça devrait aller.', 'Je fournis le café et les croissants !', 'Je ne suis pas très bricoleuse, toute aide est bienvenue.'],
  },
  {
    kind: 'request',
    category: 'pets',
    titles: ['Qui pourrait nourrir mon chat du {date} au {date2} ?', 'Promener {pet} pendant ma convalescence', 'Garde de poules pendant les vacances'],
    bodies: ['Il faut passer une fois par jour, la gamelle et l’eau.', '{pet} est très gentille et tire un peu en laisse.', 'Les clés sont chez la voisine du 12, {street}.'],
  },
  {
    kind: 'offer',
    category: 'pets',
    titles: ['Je peux garder vos animaux cet été', 'Promenades de chiens le matin', 'Je nourris vos chats pendant les vacances'],
    bodies: ['J’ai un grand jardin clôturé.', 'Je suis à la retraite et j’adore les chiens.', 'Je passe deux fois par jour si besoin.'],
  },
  {
    kind: 'request',
    category: 'childcare',
    titles: ['Cherche quelqu’un pour récupérer ma fille à l’école {day}', 'Baby-sitting samedi soir', 'Accompagner mon fils au foot le mercredi'],
    bodies: ['La sortie est à 16 h 30, école des Tilleuls.', 'Deux enfants, 6 et 9 ans, couchés à 21 h.', 'Le stade est à dix minutes à pied.'],
  },
  {
    kind: 'give',
    category: 'other',
    titles: ['Je donne des pots de confiture vides', 'Donne poussette en bon état', 'Cartons de déménagement à donner', 'Je donne des livres pour enfants', 'Plants de tomates en trop'],
    bodies: ['À récupérer devant chez moi, {street}.', 'Premier arrivé, premier servi.', 'Une trentaine environ, propres.', 'Cœur de bœuf et cerises, une dizaine de godets.'],
  },
  {
    kind: 'request',
    category: 'gardening',
    titles: ['Besoin d’aide pour tailler la haie', 'Quelqu’un aurait une tondeuse à prêter ?', 'Ramasser les pommes du verger'],
    bodies: ['La haie fait une trentaine de mètres le long de la route.', 'Il y a beaucoup trop de pommes pour nous deux, servez-vous.', 'Mon dos ne me permet plus de le faire.'],
  },
  {
    kind: 'offer',
    category: 'errands',
    titles: ['Je fais les courses à {shop} {day}, besoin de quelque chose ?', 'Je passe à la pharmacie demain matin', 'Livraison de courses pour les personnes isolées'],
    bodies: ['Envoyez-moi votre liste avant 9 h.', 'Je peux aussi passer à la poste.', 'On règle au retour, pas de souci.'],
  },
  {
    kind: 'request',
    category: 'errands',
    titles: ['Qui pourrait passer prendre mon ordonnance ?', 'Porter des bouteilles d’eau au troisième étage', 'Récupérer un colis au relais de {town}'],
    bodies: ['Je suis bloquée à la maison avec une entorse.', 'Il n’y a pas d’ascenseur dans l’immeuble.', 'Le colis est à mon nom, je vous donne le code.'],
  },
  {
    kind: 'offer',
    category: 'lessons',
    titles: ['Cours de soutien en maths pour collégiens', 'J’apprends l’informatique aux débutants', 'Conversation en anglais le jeudi soir'],
    bodies: ['Ancienne professeure, bénévolement.', 'Tablette, courriels, appels vidéo avec les petits-enfants.', 'Autour d’un thé, à la salle des fêtes.'],
  },
  {
    kind: 'request',
    category: 'paperwork',
    titles: ['Aide pour remplir le dossier de la CAF', 'Déclaration d’impôts en ligne : besoin d’un coup de main', 'Prendre rendez-vous pour la carte d’identité'],
    bodies: ['Je n’y comprends rien aux formulaires en ligne.', 'Une heure devrait suffire, je fais le café.', 'Le site de la mairie ne marche pas sur mon téléphone.'],
  },
  {
    kind: 'request',
    category: 'house-sitting',
    titles: ['Arroser mes plantes pendant mes vacances', 'Relever le courrier du {date} au {date2}', 'Ouvrir les volets pendant mon absence'],
    bodies: ['Deux fois par semaine suffit.', 'Je laisse un double des clés.', 'Je pars chez ma fille à {town} deux semaines.'],
  },
  {
    kind: 'offer',
    category: 'company',
    titles: ['Partie de belote le jeudi après-midi', 'Marche du matin au bord de la Saône', 'Café-tricot à la bibliothèque'],
    bodies: ['Tous niveaux, on apprend aux débutants.', 'Départ 9 h de la place de l’Église, une heure environ.', 'Apportez vos aiguilles, il y a de la laine.'],
  },
  {
    kind: 'event',
    category: 'other',
    titles: ['Fête des voisins le {date} dans la cour', 'Vide-grenier {street} dimanche', 'Repas partagé au jardin collectif'],
    bodies: ['Chacun apporte un plat ou une boisson.', 'Inscription gratuite pour les habitants du quartier.', 'À partir de 19 h, tables et chaises fournies.'],
  },
  {
    kind: 'tip',
    category: 'other',
    titles: ['Le boulanger de la place ferme en août', 'Ramassage des encombrants le {date}', 'Le marché déménage place de la Mairie'],
    bodies: ['Celui de {town} reste ouvert.', 'Il faut s’inscrire en mairie avant.', 'À partir du mois prochain, même horaires.'],
  },
  {
    kind: 'info',
    category: 'other',
    titles: ['Coupure d’eau {street} mardi matin', 'Réunion du conseil de quartier le {date}', 'Travaux sur la route de Bourg'],
    bodies: ['De 8 h à 12 h, prévoyez des bouteilles.', 'Salle des fêtes, 18 h 30, ouvert à tous.', 'Circulation alternée pendant trois semaines.'],
  },
  {
    kind: 'sell',
    category: 'other',
    titles: ['Vends vélo enfant 20 pouces, 30 €', 'Bois de chauffage à vendre', 'Vends machine à coudre Singer'],
    bodies: ['Très bon état, freins révisés.', 'Chêne sec, livré dans le quartier.', 'Fonctionne parfaitement, avec la notice.'],
  },
]

const CLOSINGS = [
  'Merci d’avance !', 'Merci beaucoup.', 'Répondez ici ou sonnez chez moi.', 'C’est assez urgent.', 'Pas pressé, dans la semaine ça irait.',
  'Je suis au {n}, {street}.', 'Je peux rendre la pareille pour un coup de main au jardin.', 'Bonne journée à tous !',
]
const COMMENTS = [
  'Je peux vous emmener, je pars vers 9 h.', 'Je l’ai, passez quand vous voulez.', 'Merci beaucoup !', 'C’est toujours d’actualité ?',
  'Mon fils peut aider samedi matin.', 'Super idée, on sera là !', 'Je vous envoie un message.', 'J’en ai une aussi si besoin.',
  'C’est réglé, merci à tous !', 'Je passe ce soir vers 18 h.', 'On peut faire ça ensemble, je connais bien.', 'Attention, la route est barrée jusqu’à jeudi.',
  'Je suis disponible mercredi après-midi.', 'Bravo pour l’initiative.', 'Ma voisine cherchait la même chose.', 'Je peux prêter la mienne.',
]

function fill(text: string, rng: Rng): string {
  return text
    .replaceAll('{day}', () => rng.pick(DAYS))
    .replaceAll('{town}', () => rng.pick(TOWNS))
    .replaceAll('{street}', () => rng.pick(STREETS))
    .replaceAll('{shop}', () => rng.pick(SHOPS))
    .replaceAll('{pet}', () => rng.pick(PETS))
    .replaceAll('{n}', () => String(1 + rng.int(48)))
    .replaceAll('{date}', () => `${1 + rng.int(28)} ${rng.pick(MONTHS)}`)
    .replaceAll('{date2}', () => `${1 + rng.int(28)} ${rng.pick(MONTHS)}`)
}

// ---------------------------------------------------------------------------------------------------
// The history

export interface Member {
  id: MemberId
  index: number
  displayName: string
  /** Automerge actor of the member's device (hex). */
  actor: string
  /** Yjs client ID of the member's device. */
  yClient: number
  feedUrl: DocUrl
  joinedAt: number
  /** The member's key pair (from the seed); the ID is derived from it, as the app derives it. */
  keys: MemberKeys
}

export interface PostOp {
  type: 'post'
  at: number
  author: number
  post: PostRecord
}
export interface CommentOp {
  type: 'comment'
  at: number
  author: number
  id: string
  postAuthor: number
  post: PostId
  body: string
}
export interface StatusOp {
  type: 'status'
  at: number
  author: number
  post: PostId
  status: 'done' | 'cancelled'
}
export type Op = PostOp | CommentOp | StatusOp

export interface Board {
  seed: string
  neighbourhoodUrl: DocUrl
  name: string
  members: Member[]
  /** What a device already has (chronological). */
  base: Op[]
  /** What it must catch up on (chronological, after `base`). */
  delta: Op[]
}

export interface BoardOptions {
  seed: string
  members: number
  /** Posts on the whole board (base + delta). */
  posts: number
  /** Share of the posts that are new in the delta (default 0.1). */
  deltaShare?: number
  /** Comments and status changes in the delta (default 200). */
  deltaEdits?: number
  /**
   * When the history ends (ms since epoch); it runs back from there. The app hides expired posts
   * (30 days), so a board must end near today to show any: see {@link boardOptions}.
   */
  end: number
}

const HOUR = 3600_000
const DAY = 24 * HOUR

/** Options for a board of `posts` posts ending at the start of today (UTC): the same all day long. */
export function boardOptions(seed: string, posts: number, extra: Partial<Omit<BoardOptions, 'seed' | 'posts' | 'end'>> = {}): BoardOptions {
  return { seed, members: 200, posts, ...extra, end: Math.floor(Date.now() / DAY) * DAY }
}

/** A document URL from 16 seeded bytes, as automerge-repo makes them from 16 random ones. */
export const docUrl = (rng: Rng): DocUrl => stringifyAutomergeUrl(rng.bytes(16) as BinaryDocumentId) as DocUrl
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/** Generates a board's history: the same options always give the same board. */
export function generateBoard(options: BoardOptions): Board {
  // The random walk of times does not depend on where it starts: walk once from 0 to learn its length.
  const span = generate(options, 0).end
  return generate(options, options.end - span).board
}

function generate(options: BoardOptions, start: number): { board: Board; end: number } {
  const rng = new Rng(options.seed)
  const deltaShare = options.deltaShare ?? 0.1
  const deltaEdits = options.deltaEdits ?? 200
  const neighbourhoodUrl = docUrl(rng)
  const members: Member[] = []
  const names = new Set<string>()
  for (let i = 0; i < options.members; i++) {
    let name: string
    do name = `${rng.pick(FIRST_NAMES)} ${INITIALS[rng.int(INITIALS.length)]}.`
    while (names.has(name) && names.size < FIRST_NAMES.length * INITIALS.length)
    names.add(name)
    // The draw the member ID used to be, kept so the rest of the board stays the same; the key pair
    // is derived from it and the seed.
    const secretKey = sha256(utf8.decode(`${options.seed}:${rng.id('m')}`))
    const keys = { secretKey, publicKey: ed25519.getPublicKey(secretKey) }
    members.push({
      id: memberIdFor(keys.publicKey),
      keys,
      index: i,
      displayName: name,
      actor: hex(rng.bytes(16)),
      yClient: 1_000_000 + i,
      feedUrl: docUrl(rng),
      joinedAt: start - (options.members - i) * HOUR,
    })
  }
  // Some neighbours post a lot, most rarely (a Zipf-like weight per member).
  const weights = members.map((_, i) => 1 / (1 + ((i * 7919) % options.members)) ** 0.8)
  const total = weights.reduce((a, b) => a + b, 0)
  const pickAuthor = () => {
    let x = rng.float() * total
    for (let i = 0; i < weights.length; i++) if ((x -= weights[i] as number) <= 0) return i
    return weights.length - 1
  }
  const writable = new Set<string>(WRITABLE_KINDS)
  const templates = TEMPLATES.filter((t) => writable.has(t.kind) && (CATEGORIES as readonly string[]).includes(t.category))

  const posts: PostOp[] = []
  const makePost = (at: number): PostOp => {
    const t = rng.pick(templates)
    const author = pickAuthor()
    const sentences = [fill(rng.pick(t.bodies), rng)]
    if (rng.chance(0.6)) sentences.push(fill(rng.pick(t.bodies), rng))
    if (rng.chance(0.7)) sentences.push(fill(rng.pick(CLOSINGS), rng))
    const body = [...new Set(sentences)].join(' ')
    const post = newPost({ kind: t.kind, category: t.category, title: fill(rng.pick(t.titles), rng).slice(0, 120), body }, rng.id('p') as PostId, at)
    const op: PostOp = { type: 'post', at, author, post }
    posts.push(op)
    return op
  }
  const comment = (at: number, target: PostOp): CommentOp => {
    let author = pickAuthor()
    if (author === target.author && rng.chance(0.7)) author = (author + 1 + rng.int(members.length - 1)) % members.length
    return { type: 'comment', at, author, id: rng.id('c'), postAuthor: target.author, post: target.post.id, body: rng.pick(COMMENTS) }
  }
  const closed = new Set<string>()
  const status = (at: number, target: PostOp): StatusOp | undefined => {
    if (closed.has(target.post.id)) return undefined
    closed.add(target.post.id)
    return { type: 'status', at, author: target.author, post: target.post.id, status: rng.chance(0.85) ? 'done' : 'cancelled' }
  }

  // Base: posts every few hours; each gets comments and maybe a status change in the following days.
  const basePosts = Math.round(options.posts * (1 - deltaShare))
  const base: Op[] = []
  let now = start
  for (let i = 0; i < basePosts; i++) {
    now += Math.round(rng.exp(4 * HOUR)) + 60_000
    const p = makePost(now)
    base.push(p)
    let t = now
    const comments = rng.chance(0.7) ? 1 + Math.floor(rng.exp(1)) : 0
    for (let c = 0; c < comments; c++) base.push(comment((t += Math.round(rng.exp(6 * HOUR)) + 60_000), p))
    if (rng.chance(0.45)) {
      const s = status(t + Math.round(rng.exp(24 * HOUR)) + 60_000, p)
      if (s) base.push(s)
    }
  }
  // Follow-ups scheduled after the last base post move to the delta's time, not before it.
  const split = now
  const baseOps = base.filter((op) => op.at <= split).sort(byTime)
  const late = base.filter((op) => op.at > split)

  // Delta: the remaining posts, plus exactly `deltaEdits` comments and status changes on recent posts.
  const delta: Op[] = []
  const deltaPosts = options.posts - basePosts
  for (let i = 0; i < deltaPosts; i++) {
    now += Math.round(rng.exp(4 * HOUR)) + 60_000
    delta.push(makePost(now))
  }
  const end = now
  const recent = posts.slice(-Math.max(50, Math.round(options.posts * 0.15)))
  let edits = 0
  for (const op of late) {
    if (edits >= deltaEdits) break
    delta.push({ ...op, at: Math.min(op.at, end) })
    edits++
  }
  while (edits < deltaEdits) {
    const target = recent[Math.floor(recent.length * Math.sqrt(rng.float()))] as PostOp
    const at = Math.max(target.at, split) + Math.round(rng.float() * Math.max(1, end - Math.max(target.at, split)))
    const op = rng.chance(0.72) ? comment(at, target) : status(at, target)
    if (!op) continue
    delta.push(op)
    edits++
  }
  // A comment or status change never comes before its post.
  const postedAt = new Map(posts.map((p) => [p.post.id as string, p.at]))
  for (const op of delta) if (op.type !== 'post') op.at = Math.max(op.at, (postedAt.get(op.post) ?? 0) + 1)
  delta.sort(byTime)
  const last = Math.max(now, ...delta.map((op) => op.at))
  return { board: { seed: options.seed, neighbourhoodUrl, name: 'Quartier des Tilleuls', members, base: baseOps, delta }, end: last }
}

const byTime = (a: Op, b: Op) => a.at - b.at

// ---------------------------------------------------------------------------------------------------
// The limit: the new content as JSON, gzipped

/** The delta as plain JSON, one object per post, comment or status change. */
export function deltaAsJson(board: Board): string {
  const id = (i: number) => (board.members[i] as Member).id
  return JSON.stringify(
    board.delta.map((op) => {
      switch (op.type) {
        case 'post':
          return { type: 'post', author: id(op.author), ...op.post }
        case 'comment':
          return { type: 'comment', author: id(op.author), id: op.id, post: { author: id(op.postAuthor), id: op.post }, body: op.body, createdAt: op.at }
        case 'status':
          return { type: 'status', author: id(op.author), post: op.post, status: op.status, at: op.at }
      }
    }),
  )
}

/** "The physical limit": the gzip size (level 9) of the delta as JSON. */
export function limitBytes(board: Board): number {
  return gzipSync(deltaAsJson(board), { level: 9 }).byteLength
}

// ---------------------------------------------------------------------------------------------------
// Automerge documents, as the app writes them

/** A post as commands.ts stores it, with the lifecycle fields this generator sets. */
type StoredPost = PostRecord & { status?: string; closedAt?: number }
interface StoredComment {
  id: string
  post: { feed: DocUrl; id: PostId }
  body: string
  createdAt: number
}
/** The feed as stored; `comments` is written the way commands.ts writes it, whatever FeedDoc says of it. */
type StoredFeed = Omit<FeedDoc, 'posts' | 'comments'> & { posts: Record<string, StoredPost>; comments?: Record<string, StoredComment> }

export interface AmDocs {
  /** Document ID (without `automerge:`) → saved document. */
  base: Map<string, Uint8Array>
  full: Map<string, Uint8Array>
  /** Document ID → heads of the full document (hex). */
  fullHeads: Map<string, string[]>
  baseHeads: Map<string, string[]>
}

export const idOf = (url: DocUrl): string => url.slice('automerge:'.length)
const seconds = (ms: number) => Math.floor(ms / 1000)

/**
 * Builds the neighbourhood document and every member's feed, each written with its member's actor,
 * and saves them at the end of `base` and at the end of `delta`.
 */
export function buildAutomerge(board: Board): AmDocs {
  const [creator] = board.members
  if (!creator) throw new Error('a board needs members')
  let hood = A.from(
    newNeighbourhood({
      name: board.name,
      commune: { insee: '01093', name: 'Châtillon-sur-Chalaronne', postcode: '01400' },
      creator: creator.id,
      creatorName: creator.displayName,
      creatorFeed: creator.feedUrl,
      creatorKey: encodeKey(creator.keys.publicKey),
      now: creator.joinedAt,
    }) as unknown as Record<string, unknown>,
    { actor: creator.actor },
  ) as A.Doc<NeighbourhoodDoc>
  for (const m of board.members.slice(1)) {
    // Each newcomer adds themself to the registry from their own device (joinNeighbourhood).
    hood = A.change(A.clone(hood, { actor: m.actor }), { time: seconds(m.joinedAt) }, (d) => {
      d.members[m.id] = { displayName: m.displayName, joinedAt: m.joinedAt, feed: m.feedUrl, publicKey: encodeKey(m.keys.publicKey) }
    })
  }
  // Every feed change signed by its owner, as commands.ts writes them (shared/signed-changes.ts).
  const signed = (m: Member, feed: A.Doc<StoredFeed>, at: number, fn: A.ChangeFn<StoredFeed>) =>
    changeSigned(feed, fn, { documentId: idOf(m.feedUrl), secretKey: m.keys.secretKey, time: seconds(at) })
  const feeds = board.members.map((m) =>
    signed(m, A.init<StoredFeed>({ actor: m.actor }), m.joinedAt, (d) => {
      Object.assign(d, newFeed(board.neighbourhoodUrl, m.id))
      d.comments ??= {}
    }),
  )

  const apply = (op: Op) => {
    const i = op.author
    const author = board.members[i] as Member
    feeds[i] = signed(author, feeds[i] as A.Doc<StoredFeed>, op.at, (d) => {
      switch (op.type) {
        case 'post':
          d.posts[op.post.id] = storedPost(op.post)
          break
        case 'comment': {
          const feed = (board.members[op.postAuthor] as Member).feedUrl
          ;(d.comments ??= {})[op.id] = storedComment({ id: op.id as CommentId, post: { feed, id: op.post }, body: op.body, createdAt: op.at })
          break
        }
        case 'status': {
          const p = d.posts[op.post]
          if (!p) throw new Error(`status change on a post not in its author's feed: ${op.post}`)
          p.status = immutable(op.status)
          p.closedAt = op.at
          break
        }
      }
    })
  }
  const ids = [idOf(board.neighbourhoodUrl), ...board.members.map((m) => idOf(m.feedUrl))]
  const snapshot = () => {
    const docs: A.Doc<unknown>[] = [hood, ...feeds]
    return {
      saved: new Map(ids.map((id, i) => [id, A.save(docs[i] as A.Doc<unknown>)])),
      heads: new Map(ids.map((id, i) => [id, A.getHeads(docs[i] as A.Doc<unknown>)])),
    }
  }
  for (const op of board.base) apply(op)
  const base = snapshot()
  for (const op of board.delta) apply(op)
  const full = snapshot()
  return { base: base.saved, full: full.saved, baseHeads: base.heads, fullHeads: full.heads }
}

// ---------------------------------------------------------------------------------------------------
// The Yjs baseline: the same board in one Y.Doc, posts in a Y.Map

export interface YjsDocs {
  base: Uint8Array
  full: Uint8Array
  fullStateVector: Map<number, number>
}

/** Builds the Yjs baseline: each member writes with their own client ID, as their own device would. */
export function buildYjs(board: Board): YjsDocs {
  const doc = new Y.Doc({ gc: true })
  const posts = doc.getMap<Y.Map<unknown>>('posts')
  const comments = doc.getMap<unknown>('comments')
  const registry = doc.getMap<unknown>('members')
  const as = (member: Member, fn: () => void) => {
    doc.clientID = member.yClient
    doc.transact(fn)
  }
  for (const m of board.members) as(m, () => registry.set(m.id, { displayName: m.displayName, joinedAt: m.joinedAt }))
  const apply = (op: Op) => {
    const author = board.members[op.author] as Member
    as(author, () => {
      switch (op.type) {
        case 'post': {
          const p = new Y.Map<unknown>()
          posts.set(op.post.id, p)
          for (const [k, v] of Object.entries(op.post)) if (v !== undefined) p.set(k, v)
          p.set('author', author.id)
          break
        }
        case 'comment':
          comments.set(op.id, { id: op.id, author: author.id, post: { author: (board.members[op.postAuthor] as Member).id, id: op.post }, body: op.body, createdAt: op.at })
          break
        case 'status': {
          const p = posts.get(op.post)
          if (!p) throw new Error(`status change on an unknown post ${op.post}`)
          p.set('status', op.status)
          p.set('closedAt', op.at)
          break
        }
      }
    })
  }
  for (const op of board.base) apply(op)
  const base = Y.encodeStateAsUpdate(doc)
  for (const op of board.delta) apply(op)
  const full = Y.encodeStateAsUpdate(doc)
  const fullStateVector = Y.decodeStateVector(Y.encodeStateVector(doc))
  doc.destroy()
  return { base, full, fullStateVector }
}

/** True when `doc` has everything the state vector `want` describes. */
export function yHasState(doc: Y.Doc, want: Map<number, number>): boolean {
  const have = Y.decodeStateVector(Y.encodeStateVector(doc))
  for (const [client, clock] of want) if ((have.get(client) ?? 0) < clock) return false
  return true
}

/** A short description for reports. */
export function describe(board: Board): string {
  const count = (ops: Op[], type: Op['type']) => ops.filter((o) => o.type === type).length
  return (
    `${board.members.length} members; base ${count(board.base, 'post')} posts, ${count(board.base, 'comment')} comments, ` +
    `${count(board.base, 'status')} status changes; delta ${count(board.delta, 'post')} posts, ` +
    `${count(board.delta, 'comment')} comments, ${count(board.delta, 'status')} status changes`
  )
}
