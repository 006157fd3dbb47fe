/** Product name and version, shown in the UI and sent as the SIP User-Agent. Keep in step with package.json. */
export const APP_NAME = 'Switchboard';
export const APP_VERSION = '0.1.0';
