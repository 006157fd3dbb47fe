/**
 * Which web permissions the renderer gets: microphone only (for calls), and only for our own page.
 * Everything else (camera, notifications, geolocation, clipboard, HID, …) is refused.
 * No electron import: unit-testable.
 */
export interface PermissionQuery {
  permission: string;
  /** URL of the page/frame asking. */
  requestingUrl: string;
  /** For 'media' requests: which kinds are asked for. */
  mediaTypes?: ReadonlyArray<'video' | 'audio' | string>;
}

export function isPermissionAllowed(query: PermissionQuery, ourPageUrl: string): boolean {
  if (query.permission !== 'media') return false;
  if (!URL.canParse(query.requestingUrl)) return false; // not a URL at all: certainly not our page
  const url = new URL(query.requestingUrl);
  const ours = new URL(ourPageUrl);
  if (url.protocol !== ours.protocol || url.host !== ours.host || url.pathname !== ours.pathname) return false;
  // Audio only; an empty list (permission check without details) is allowed as it grants nothing by itself.
  return (query.mediaTypes ?? []).every((type) => type === 'audio');
}
