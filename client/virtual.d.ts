declare module 'virtual:placette-communes' {
  /** URL of the communes list, a text file encoded by shared/communes.ts `encodeCommunes`. */
  const url: string
  export default url
}
