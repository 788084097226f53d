export * from './common.js';
export * from './terms.js';
export * from './commands.js';
export * from './events.js';
export * from './room.js';
export * from './errors.js';
export * from './http.js';
export * from './socket.js';
