module.exports = require('./temporary-folder').teardown;
