/** PASCAL VOC data: VOCdevkit reader, VOC XML parser, comp4 results files, the 20 classes. */
export { VOC_CLASSES, type VocClass } from './classes.ts';
export * from './records.ts';
export { parseVocXml } from './xml.ts';
export { checkClassList, loadVocDataset, loadVocImages, readImageSet, type VocDataset, type VocDatasetOptions, type VocImagesOptions } from './devkit.ts';
export { readVocResults, readVocResultsDir, resultsFileName, writeVocResults, writeVocResultsDir } from './results.ts';
